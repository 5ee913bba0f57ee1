"""Checks a kernel policy against a list of expectations read from stdin.

Usage: /usr/bin/python3 rules.py POLICY < checks

One check per line, '#' starts a comment, fields split on blanks; the text
after ' -- ' is what a failure prints:
    type    NAME                                  -- desc
    allow   SOURCE TARGET CLASS PERM[,PERM...]    -- desc
    deny    SOURCE TARGET|* CLASS PERM[,PERM...]  -- desc
    trans   SOURCE TARGET CLASS DEFAULT            -- desc

allow: the unconditional allow rules that apply to SOURCE and TARGET (types
or attributes holding them) grant every PERM between them.  deny: no allow
rule, conditional ones included, grants any PERM.  trans: a type_transition
gives DEFAULT.  A type, attribute or class the policy does not have is a
failure, not a pass.  One process loads the policy once: sesearch would load
it for every check.
"""
import sys

import setools


class Rules:
    """The policy's allow and type_transition rules for the classes the
    checks name, read in one pass (a setools query per check would walk
    all 130,000 rules each time)."""

    def __init__(self, policy, classes):
        self.policy = policy
        self.members = {}
        self.allow = []
        self.trans = []
        known = {str(c) for c in policy.classes()}
        for c in classes:
            if c not in known:
                raise ValueError("no class '%s' in the policy" % c)
        for rule in policy.terules():
            kind = str(rule.ruletype)
            if kind not in ("allow", "type_transition") or str(rule.tclass) not in classes:
                continue
            if kind == "allow":
                self.allow.append((rule, unconditional(rule)))
            else:
                self.trans.append(rule)

    def holds(self, typeset, name):
        key = str(typeset)
        if key not in self.members:
            self.members[key] = {str(t) for t in typeset.expand()}
        return name in self.members[key]

    def applies(self, rule, source, target, tclass):
        return (str(rule.tclass) == tclass and self.holds(rule.source, source) and
                (target == "*" or self.holds(rule.target, target)))

    def granted(self, source, target, tclass, only_unconditional):
        perms = set()
        for rule, uncond in self.allow:
            if (uncond or not only_unconditional) and self.applies(rule, source, target, tclass):
                perms |= {str(p) for p in rule.perms}
        return perms

    def transition(self, source, target, tclass, default):
        return any(str(r.default) == default and self.applies(r, source, target, tclass)
                   for r in self.trans)


def unconditional(rule):
    try:
        rule.conditional
    except setools.exception.RuleNotConditional:
        return True
    return False


def known_type(policy, name):
    if name == "*":
        return
    try:
        policy.lookup_type_or_attr(name)
    except ValueError:
        raise ValueError("no type or attribute '%s' in the policy" % name)


def check(rules, fields):
    kind = fields[0]
    if kind == "type":
        (name,) = fields[1:]
        return any(str(t) == name for t in rules.policy.types())
    for name in fields[1:3]:
        known_type(rules.policy, name)
    if kind in ("allow", "deny"):
        tclass, perms = fields[3], set(fields[4].split(",")) if len(fields) > 4 else set()
        cls = rules.policy.lookup_class(tclass)
        valid = {str(p) for p in cls.perms}
        try:
            valid |= {str(p) for p in cls.common.perms}
        except setools.exception.NoCommon:
            pass
        if perms - valid:
            raise ValueError("class %s has no permission %s" % (tclass, ",".join(sorted(perms - valid))))
    if kind == "allow":
        source, target, tclass, perms = fields[1:]
        return set(perms.split(",")) <= rules.granted(source, target, tclass, True)
    if kind == "deny":
        source, target, tclass, perms = fields[1:]
        return not set(perms.split(",")) & rules.granted(source, target, tclass, False)
    if kind == "trans":
        source, target, tclass, default = fields[1:]
        return rules.transition(source, target, tclass, default)
    raise ValueError("unknown check '%s'" % kind)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: rules.py POLICY < checks")
    policy = setools.SELinuxPolicy(sys.argv[1])
    checks = []
    for lineno, line in enumerate(sys.stdin, 1):
        line, _, desc = line.partition(" -- ")
        fields = line.split("#", 1)[0].split()
        if fields:
            checks.append((lineno, fields, desc.strip()))
    classes = {f[3] for _, f, _ in checks if f[0] in ("allow", "deny", "trans") and len(f) > 3}
    rules = Rules(policy, classes)
    passed = failed = 0
    for lineno, fields, desc in checks:
        try:
            ok = check(rules, fields)
        except ValueError as e:  # an unknown type or class, a malformed line
            print("FAIL: line %d: bad check '%s': %s" % (lineno, " ".join(fields), e))
            failed += 1
            continue
        if ok:
            passed += 1
        else:
            print("FAIL: %s (%s)" % (desc or "check", " ".join(fields)))
            failed += 1
    print("rules: %d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
