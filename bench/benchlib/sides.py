# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""What a bench run compares: two sides, a baseline and a candidate, each
run the same way in ABBA rounds.  Either stock Dovecot (baseline) against
Dovecot with the plugin (candidate), or two builds of the plugin: an old
build dir (baseline) against a new one (candidate).  Ratios in the tables
are candidate/baseline."""


class Side:
    """name: the row label and JSON key.  plugin_so: the plugin's .so to
    load (None: stock Dovecot).  build_dir: where it was built."""

    def __init__(self, name, plugin_so=None, build_dir=None):
        self.name = name
        self.plugin_so = plugin_so
        self.build_dir = build_dir
        self.snapshot = None        # the copy the runs load, its hashes

    @property
    def plugin(self):
        return self.plugin_so is not None


class Comparison:
    def __init__(self, mode, baseline, candidate, only=None):
        self.mode = mode            # "stock" | "build"
        self.baseline, self.candidate = baseline, candidate
        self.only = only

    @property
    def names(self):
        return (self.baseline.name, self.candidate.name)

    @property
    def ratio_label(self):
        return "%s/%s" % (self.candidate.name, self.baseline.name)

    def running(self):
        """The sides that run, baseline first."""
        return [s for s in (self.baseline, self.candidate)
                if self.only is None or s.name == self.only]

    def side(self, name):
        return {s.name: s for s in (self.baseline, self.candidate)}[name]

    def describe(self):
        return {"mode": self.mode, "baseline": self.baseline.name,
                "candidate": self.candidate.name,
                "ratio": self.ratio_label,
                "builds": {s.name: s.build_dir for s in
                           (self.baseline, self.candidate) if s.plugin}}


def stock_vs_plugin(plugin_so, build_dir, only=None):
    return Comparison("stock", Side("stock"),
                      Side("imap_idle", plugin_so, build_dir), only)


def old_vs_new(old_so, old_dir, new_so, new_dir, only=None):
    return Comparison("build", Side("old", old_so, old_dir),
                      Side("new", new_so, new_dir), only)
