# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""The benchmark's scenarios: what loadgen does, how Dovecot is configured
for it (the same for the stock and the plugin run), what inotify limit it
needs and which of the project's targets it measures.

Every scenario has a full size (the numbers that go into the README) and a
--quick size for a sanity run.  Deliveries to one mailbox are spaced at
least 2 s apart (baseline.md: faster rates phase-lock against the built-in
watcher's 500 ms window); --quick's `single` is the one exception (1 s)."""

import dataclasses
from dataclasses import dataclass, field

# loadgen's per-connection setup estimate for the timeout, conservative:
# one process per connection sets up ~300 connections/s on 2 cores.
SETUP_RATE_ESTIMATE = 100.0


@dataclass(frozen=True)
class Scenario:
    name: str
    title: str
    connections: int            # idlers N
    users: int                  # U; connection i is user (i mod U)+1
    messages: int = 0           # round-robin deliveries M
    rate: float = 100.0         # wanted deliveries/s (spacing may lower it)
    spacing_ms: int = 2000      # per mailbox, 250 -> next delivery
    burst: int = 0              # back-to-back deliveries to user 1
    lmtp_connections: int = 1
    storm_rate: float = 0.0     # flag-storm STOREs/s on user 1's INBOX
    storm_secs: int = 10
    hold_secs: int = 5          # quiet phase (idle CPU, keepalives)
    settle_secs: int = 35       # loadgen --settle-secs
    client_limit: int = 1       # service imap client_limit; 1 = default
    plugin_settings: dict = field(default_factory=dict)
    dovecot_conf: str = ""      # top-level lines, both sides
    inotify_exact: int = 0      # set max_user_instances to exactly this
    wait_after_setup: float = 0.0   # pause after setup (hibernation)
    drain_secs: float = 1.5     # after a busy phase, before sampling
    # imap_idle_notify_interval.  Only keepalive-spread measures
    # keepalives; elsewhere they are pushed out of the run, because stock
    # sends all of them in one second (5000 at once at N=5000), which lands
    # by chance in one side's deliveries or quiet phase and not the other's
    keepalive_interval: str = "30 mins"
    primary: str = "deliveries"     # deliveries | burst | storm | keepalive
    # sample Pss and imap processes while the deliveries run
    sample_deliveries: bool = False
    # saturation ramp (loadgen --ramp-*): rate, rate x factor, ... each
    # for ramp_step_secs until the LMTP p50 knee or ramp_max_rate
    ramp_factor: float = 0.0
    ramp_step_secs: int = 5
    ramp_max_rate: float = 0.0
    ramp_knee: float = 2.0
    hot_users: int = 0          # users 1..K get hot_share of deliveries
    hot_share: float = 0.5
    notes: tuple = ()
    quick: dict = field(default_factory=dict)   # overrides for --quick

    # -- derived ---------------------------------------------------------
    @property
    def description(self):
        return self.title.format(
            N=self.connections, U=self.users,
            per=self.connections // max(self.users, 1), burst=self.burst,
            hot=self.hot_users,
            lmtp=self.lmtp_connections, storm=self.storm_rate,
            storm_secs=self.storm_secs)

    @property
    def one_process_per_connection(self):
        return self.client_limit == 1

    @property
    def imap_processes(self):
        n = self.connections
        return n if self.client_limit == 1 else -(-n // self.client_limit)

    def effective_rate(self):
        """What loadgen will achieve: the spacing caps the rate at
        U'/spacing (U' = mailboxes with idlers)."""
        mailboxes = min(self.users, self.connections)
        if self.spacing_ms <= 0:
            return self.rate
        return min(self.rate, mailboxes * 1000.0 / self.spacing_ms)

    def inotify_needed(self):
        """max_user_instances this scenario needs on the bench's mail uid
        (0: no change).  Each idling imap process holds one instance; with
        hibernation the instance moves to imap-hibernate while a fresh imap
        process may create another on wake-up."""
        if self.inotify_exact:
            return self.inotify_exact
        procs = self.imap_processes
        if "imap_hibernate_timeout" in self.dovecot_conf:
            procs *= 2
        return procs + 64

    def process_model(self):
        if self.client_limit == 1:
            return "one process per connection"
        return "client_limit = %d" % self.client_limit

    def service_imap(self):
        """Lines inside `service imap {}`."""
        lines = ["  client_limit = %d" % self.client_limit,
                 # service_count = 1 (the default) would end a process
                 # after one client, whatever client_limit says
                 "  service_count = %d" % (1 if self.client_limit == 1
                                           else 0),
                 "  process_limit = %d" % max(1024,
                                              self.imap_processes * 2 + 100)]
        return "\n".join(lines) + "\n"

    def extra_conf(self):
        """Top-level configuration so that no limit binds (baseline.md
        "Raise limits so they don't bind").  The open-files hard limit is
        20000, so no service may ask for more than that."""
        return (
            "default_client_limit = 15000\n"
            "default_process_limit = 1000\n"
            "mail_max_userip_connections = 100000\n"
            "service auth {\n  client_limit = 15000\n}\n"
            "service anvil {\n  client_limit = 15000\n}\n"
            "service stats {\n  client_limit = 15000\n}\n"
            "service imap-login {\n  process_limit = 1000\n"
            "  process_min_avail = 2\n}\n"
            "imap_idle_notify_interval = %s\n" % self.keepalive_interval
            + self.dovecot_conf)

    def loadgen_args(self):
        # a ramp is bounded by its cap, not by a message count
        a = ["--connections", self.connections, "--users", self.users,
             "--messages", 0 if self.ramp_factor else self.messages,
             "--rate", "%g" % self.effective_rate(),
             "--min-spacing-ms", self.spacing_ms,
             "--lmtp-connections", self.lmtp_connections,
             "--settle-secs", self.settle_secs,
             "--hold-secs", self.hold_secs]
        if self.burst:
            a += ["--burst", self.burst, "--burst-user", 1]
        if self.storm_rate:
            a += ["--flag-storm-rate", "%g" % self.storm_rate,
                  "--flag-storm-secs", self.storm_secs,
                  "--flag-storm-user", 1]
        if self.ramp_factor:
            a += ["--ramp-factor", "%g" % self.ramp_factor,
                  "--ramp-step-secs", self.ramp_step_secs,
                  "--ramp-max-rate", "%g" % self.ramp_max_rate,
                  "--ramp-knee", "%g" % self.ramp_knee]
        if self.hot_users:
            a += ["--hot-users", self.hot_users,
                  "--hot-share", "%g" % self.hot_share]
        return [str(x) for x in a]

    def ramp_steps(self):
        """Most steps the ramp can take (it may stop earlier)."""
        if not self.ramp_factor:
            return 0
        n, rate = 1, self.rate
        while rate * self.ramp_factor <= self.ramp_max_rate:
            rate *= self.ramp_factor
            n += 1
        return n

    def timeout_secs(self):
        """loadgen --timeout-secs: generous, only a bound."""
        t = 60 + self.connections / SETUP_RATE_ESTIMATE
        if self.ramp_factor:
            # each step's time, then its transactions drain
            t += self.ramp_steps() * (self.ramp_step_secs + 10) + \
                self.settle_secs
        elif self.messages:
            t += self.messages / self.effective_rate() + self.settle_secs
        if self.burst:
            t += self.burst * 0.1 + self.settle_secs
        if self.storm_rate:
            t += self.storm_secs + 2 * self.settle_secs + 10
        t += self.hold_secs + 60 + self.connections / 100.0
        return int(t)

    def shrink(self):
        return dataclasses.replace(self, **self.quick) if self.quick else \
            self


# The quiet phase of the N-idler scenarios spans one full
# mailbox_idle_check_interval (30 s): Dovecot's own mailbox watch stats the
# mailbox that often even with inotify working, in every idling process,
# so a shorter window sees that work or not depending on its phase.
IDLE_HOLD = 31
IDLE_NOTE = ("idle CPU over a 31 s quiet phase: one full "
             "mailbox_idle_check_interval (30 s), whose stat() check Dovecot "
             "runs in every idling process, stock and plugin alike",)


def _scenarios():
    s = []
    s.append(Scenario(
        "single", "1 idler, sequential deliveries", 1, 1,
        messages=20, rate=0.5, spacing_ms=2000,
        quick=dict(messages=10, spacing_ms=1000, rate=1.0, hold_secs=2,
                   notes=("--quick spaces deliveries 1 s apart (stock's "
                          "500 ms window may phase-lock)",))))
    # N idlers on N users, in both process models
    for n, quick_n, quick_messages, quick_rate in ((1000, 100, 100, 50),
                                                   (5000, 500, 200, 100)):
        for client_limit in (1, 50):
            s.append(Scenario(
                "n%d%s" % (n, "" if client_limit == 1 else "-cl50"),
                "{N} idlers on {U} users", n, n,
                messages=1000, rate=100, client_limit=client_limit,
                hold_secs=IDLE_HOLD, notes=IDLE_NOTE,
                quick=dict(connections=quick_n, users=quick_n,
                           messages=quick_messages, rate=quick_rate,
                           hold_secs=2)))
    s.append(Scenario(
        "fanout10", "{per} idlers per mailbox ({N} idlers, {U} users)",
        1000, 100, messages=300, rate=50, client_limit=50,
        quick=dict(connections=100, users=10, messages=20, rate=5,
                   hold_secs=2)))
    s.append(Scenario(
        "burst100", "{burst}-message burst to one mailbox, {N} idlers on it",
        10, 1, burst=100, primary="burst",
        notes=("latency = last 250 -> final EXISTS at every idler; "
               "CPU per burst message",
               "one LMTP connection: the 100 deliveries back to back"),
        quick=dict(burst=50, hold_secs=2)))
    s.append(Scenario(
        "burst100-par", "{burst}-message burst over {lmtp} LMTP "
        "connections, {N} idlers", 10, 1, burst=100, lmtp_connections=4,
        primary="burst",
        notes=("latency = last 250 -> final EXISTS at every idler; "
               "CPU per burst message",
               "4 concurrent LMTP transactions to the same mailbox "
               "(uidlist lock contention)"),
        quick=dict(burst=50, hold_secs=2)))
    s.append(Scenario(
        "inotify128", "{N} idlers, fs.inotify.max_user_instances = 128",
        1000, 1000, messages=1000, rate=100, inotify_exact=128,
        settle_secs=40,
        notes=("every mailbox gets one message; only the first ~128 imap "
               "processes get an inotify instance: the others' stock polls "
               "every mailbox_idle_check_interval (30 s), the plugin every "
               "imap_idle_poll_interval (2 s)",),
        quick=dict(connections=200, users=200, messages=200, hold_secs=2)))
    s.append(Scenario(
        "hibernate", "{N} idlers, imap_hibernate_timeout = 1s",
        1000, 1000, messages=300, rate=20,
        dovecot_conf="imap_hibernate_timeout = 1s\n",
        wait_after_setup=3.0, sample_deliveries=True,
        notes=("20 deliveries/s: every stock wake-up forks an imap process; "
               "at 100/s that saturates the 2 cores (stock p50 764 ms "
               "instead of ~6 ms)",
               "3 s pause after setup so stock's clients hibernate before "
               "memory is sampled and deliveries start",
               "the plugin does not hibernate yet: its clients stay in "
               "their imap processes"),
        quick=dict(connections=100, users=100, messages=40, hold_secs=2)))
    s.append(Scenario(
        "hibernate-mixed", "{N} idlers, {hot} hot mailboxes, "
        "imap_hibernate_timeout = 1s", 1000, 1000, messages=600, rate=20,
        spacing_ms=1000, hot_users=20, hot_share=0.5,
        dovecot_conf="imap_hibernate_timeout = 1s\n",
        wait_after_setup=3.0, sample_deliveries=True,
        notes=("half the deliveries go to the hot mailboxes (at full "
               "size one every 2 s each, longer than the 1 s hibernate "
               "timeout: every one wakes its client, which hibernates "
               "again before the next), the other half round-robin over "
               "the quiet ones",
               "Pss per connection (KiB/conn dlv) sampled every 2 s while "
               "the deliveries run; imap forks: imap processes that "
               "appeared meanwhile (a wake-up forks one)"),
        quick=dict(connections=100, users=100, hot_users=10, messages=60,
                   rate=10, hold_secs=2)))
    for client_limit in (1, 50):
        s.append(Scenario(
            "saturation%s" % ("" if client_limit == 1 else "-cl50"),
            "delivery rate ramp to LMTP's knee, {N} idlers",
            1000, 1000, rate=10, spacing_ms=500, lmtp_connections=16,
            client_limit=client_limit, ramp_factor=1.5, ramp_step_secs=5,
            ramp_max_rate=2000, hold_secs=2, primary="saturation",
            notes=("deliveries in steps (see params: rate, ramp_factor, "
                   "ramp_step_secs, ramp_max_rate) over 16 LMTP "
                   "connections; a side's rate (max rate/s) is the highest "
                   "step before its LMTP .->250 p50 reached twice its "
                   "first step's, a delivery failed or it fell behind "
                   "(< 90 % of the offered rate), or the cap",),
            quick=dict(connections=100, users=100, spacing_ms=200,
                       ramp_step_secs=3, ramp_factor=2,
                       ramp_max_rate=320)))
    s.append(Scenario(
        "keepalive-spread", "{N} idlers on {U} users, keepalive every 10 s",
        1000, 1000, client_limit=50, hold_secs=25, primary="keepalive",
        keepalive_interval="10 secs",
        notes=("no deliveries; idling 25 s (12 s with --quick); KA max/s "
               "and mean/s: the "
               "'* OK Still here' lines loadgen read per wall-clock second "
               "between setup_done and the end of the quiet phase; idle "
               "CPU is the keepalives' cost",),
        quick=dict(connections=100, users=100, hold_secs=12)))
    s.append(Scenario(
        "flagstorm", "flag storm {storm:g} STOREs/s for {storm_secs} s, "
        "{N} idlers",
        10, 1, burst=9, storm_rate=200, storm_secs=10, primary="storm",
        notes=("the mailbox holds 10 messages (a 9-message burst, then the "
               "storm's seed); STORE 1:* +FLAGS/-FLAGS (\\Flagged) "
               "alternating; CPU/msg column = CPU per STORE",),
        quick=dict(storm_secs=3, hold_secs=2)))
    return s


SCENARIOS = {sc.name: sc for sc in _scenarios()}
ORDER = [sc.name for sc in _scenarios()]


# -- targets (from the issue) ---------------------------------------------
# Each check: (text, function(stock, plugin) -> (met or None, detail)).
# stock and plugin are the runner's derived metric dicts.

def _le(value, bound):
    if value is None:
        return None
    return value <= bound


def _lat_check(key, bound):
    def f(stock, plugin):
        v = plugin.get("latency", {}).get(key)
        return _le(v, bound), "%s = %s ms" % (key, _ms(v))
    return ("latency %s <= %g ms" % (key, bound), f)


def _not_higher(metric, label):
    def f(stock, plugin):
        a, b = plugin.get(metric), stock.get(metric)
        if a is None or b is None:
            return None, "%s: no data" % label
        return a <= b, "%s %.3f vs stock %.3f (%+.0f%%)" % (
            label, a, b, (a / b - 1) * 100 if b else 0)
    return ("%s <= stock" % label, f)


def _zero_missed():
    def f(stock, plugin):
        m = plugin.get("missed")
        late = plugin.get("late_after_done")
        return (m == 0 and not late) if m is not None else None, \
            "missed %s, late after DONE %s" % (m, late)
    return ("no missed notification", f)


def _idle_zero(bound=1.0):
    """Idle CPU ~ 0: at most `bound` ms of CPU per second over all of
    Dovecot, or no more than stock's (Dovecot's own periodic mailbox check,
    see IDLE_HOLD, is there with and without the plugin)."""
    def f(stock, plugin):
        v, s = plugin.get("idle_cpu_ms_per_s"), stock.get("idle_cpu_ms_per_s")
        if v is None:
            return None, "no data"
        n = plugin.get("idling") or 0
        per = " = %.2f us/s per connection" % (v * 1000 / n) if n else ""
        return v <= bound or (s is not None and v <= s), \
            "idle CPU %.3f ms/s%s (stock %s)" % (
                v, per, "%.3f" % s if s is not None else "-")
    return ("idle CPU ~ 0 (<= %g ms/s, or <= stock's)" % bound, f)


def _burst_check(bound):
    def f(stock, plugin):
        b = plugin.get("burst") or {}
        mx, missed = b.get("final_max"), b.get("idlers_missed")
        if mx is None:
            return None, "no data"
        return mx <= bound and missed == 0, \
            "final EXISTS max %s ms after the last 250, %s idlers missed" % (
                _ms(mx), missed)
    return ("every idler sees the final EXISTS <= %g ms after the last 250"
            % bound, f)


def _storm_check():
    def f(stock, plugin):
        st = plugin.get("storm") or {}
        ok = st.get("converged") and not plugin.get("flag_mismatches")
        return bool(ok), "converged %s, mismatches %s" % (
            st.get("converged"), plugin.get("flag_mismatches"))
    return ("flags converge", f)


def _poll_check(poll_ms):
    def f(stock, plugin):
        v = plugin.get("latency", {}).get("max")
        if v is None:
            return None, "no data"
        return v <= poll_ms and plugin.get("missed") == 0, \
            "max latency %s ms, poll interval %d ms" % (_ms(v), poll_ms)
    return ("no notification later than imap_idle_poll_interval", f)


def _saturation_check():
    def f(stock, plugin):
        a = (plugin.get("saturation") or {}).get("rate")
        b = (stock.get("saturation") or {}).get("rate")
        if a is None or b is None:
            return None, "no data"
        return a >= b, "highest rate %g/s vs stock %g/s (%s)" % (
            a, b, "ratio %.2f" % (a / b) if b else "stock 0")
    return ("saturation rate >= stock's", f)


def _ms(v):
    return "-" if v is None else "%.3f" % v


_DELIVERY = [_not_higher("cpu_ms_per_msg", "CPU ms/msg"),
             _not_higher("lmtp_p50", "LMTP .->250 p50 ms"),
             _zero_missed()]

TARGETS = {
    "n1000": [_lat_check("p50", 0.1), _lat_check("p99", 1.0)] + _DELIVERY
    + [_idle_zero()],
    "n1000-cl50": [_lat_check("p50", 0.1), _lat_check("p99", 1.0)]
    + _DELIVERY + [_idle_zero()],
    "n5000": [_lat_check("p99", 2.0)] + _DELIVERY + [_idle_zero()],
    "n5000-cl50": [_lat_check("p99", 2.0)] + _DELIVERY + [_idle_zero()],
    "fanout10": [_lat_check("p99", 5.0)] + _DELIVERY + [_idle_zero()],
    "burst100": [_burst_check(10.0),
                 _not_higher("cpu_ms_per_msg", "CPU ms/burst msg")],
    "burst100-par": [_burst_check(10.0),
                     _not_higher("cpu_ms_per_msg", "CPU ms/burst msg")],
    "flagstorm": [_not_higher("storm_cpu_ms", "storm CPU ms"),
                  _storm_check()],
    "inotify128": [_poll_check(2000)],
    "single": [_zero_missed(), _idle_zero()],
    "hibernate": [_zero_missed()],
    "hibernate-mixed": [_zero_missed()],
    "saturation": [_saturation_check(), _zero_missed()],
    "saturation-cl50": [_saturation_check(), _zero_missed()],
    "keepalive-spread": [],
}
