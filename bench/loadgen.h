/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

#ifndef LOADGEN_H
#define LOADGEN_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

/* loadgen: benchmark client for IMAP IDLE notification latency.

   One process, one epoll loop. N IMAP connections log in (connection i as
   user (i mod U)+1), SELECT INBOX and IDLE; deliveries go through LMTP
   connections that this program speaks itself. Everything runs as a fixed
   sequence of phases; when a phase completes, its stage name is printed
   ("STAGE <name>") so a controller can sample the server in between.

   Measurement model: a mailbox's count is learned from SELECT (its base).
   The k-th LMTP 250 read for a mailbox confirms count base+k, whatever
   order concurrent transactions ran in: after k 250s at least base+k
   messages exist. Each idler remembers when it first saw an EXISTS >= c,
   for every c above the base. A (delivery, idler) pair's latency is that
   arrival time minus the delivery's 250's; it is negative if the EXISTS
   came first. Arrival is when the kernel received the bytes (a socket
   receive timestamp), not when this process got to read them: on a
   machine it shares with Dovecot, its own scheduling delays stay out of
   the readings. pending_pairs counts pairs whose 250 was read
   but whose EXISTS was not yet seen, so the settle waits know when to stop.
   All latencies are computed once at the end from these arrays. */

#define EXIT_CHECKS_FAILED 1
#define EXIT_USAGE 2
#define EXIT_INTERNAL 3

#define NSEC_PER_MSEC 1000000LL
#define NSEC_PER_SEC 1000000000LL
#define TICK_NSECS (10 * NSEC_PER_MSEC)
#define DEADLINE_SCAN_TICKS 10
#define MAX_EVENTS 512
#define READ_CHUNK 4096
#define MAX_RESPONSE_LEN (1024 * 1024)
#define MAX_ARRIVALS (10 * 1000 * 1000)
#define MAX_REASONS 64
#define MAX_STAGES 16
#define TIMEOUT_GRACE_NSECS (15 * NSEC_PER_SEC)

struct options {
	const char *host, *user_prefix, *password, *pause_file, *json_path;
	int imap_port, lmtp_port, connections, users, messages;
	double rate;
	int min_spacing_ms, burst, burst_user, lmtp_connections;
	int setup_concurrency, setup_timeout_secs, command_timeout_secs;
	int settle_secs, hold_secs, initial_count;
	double storm_rate;
	int storm_secs, storm_user, pause_timeout_secs, timeout_secs;
	int no_progress;
};
extern struct options opt;

enum arg_type { ARG_STR, ARG_INT, ARG_DOUBLE, ARG_FLAG };

/* One row per option: parsing, --help and the JSON "config" echo. */
struct option_def {
	const char *name;
	enum arg_type type;
	void *value;
	double min, max;
	const char *help;
};
extern const struct option_def option_defs[];
extern const size_t n_option_defs;

struct buf {
	char *data;
	size_t len, cap;
};

struct samples {
	int64_t *v;
	size_t n, cap;
};

enum endpoint_kind { EP_TIMER, EP_IMAP, EP_LMTP };

/* What every socket has; first member of imap_conn and lmtp_conn. */
struct endpoint {
	enum endpoint_kind kind;
	int fd;
	uint32_t events;
	struct buf in, out;
	int64_t deadline;	/* 0: not waiting for the server */
};

enum imap_step {
	STEP_NONE, STEP_CONNECT, STEP_GREETING, STEP_LOGIN, STEP_SELECT,
	STEP_IDLE, STEP_IDLING, STEP_READY, STEP_STORE, STEP_DONE,
	STEP_NOOP, STEP_FETCH, STEP_LOGOUT, STEP_CLOSED
};

/* Flags as an idler or the storm session last learned them. */
enum flag_view { FLAG_UNKNOWN, FLAG_CLEAR, FLAG_SET };

struct imap_conn {
	struct endpoint ep;
	bool is_storm, failed;
	enum imap_step step;
	int mbox;
	unsigned tag_seq;
	char tag[16];
	struct buf resp;	/* one response, literals cut out */
	size_t literal_left;
	char bye[96];
	uint32_t exists;	/* highest EXISTS seen */
	bool idle_started, done_ok;
	int64_t t_done_sent;
	uint32_t seen_at_done_ok;
	int64_t *arrival;	/* [k]: first EXISTS >= base+k+1 */
	size_t arrival_cap;
	uint8_t *flags;		/* [seq], storm mailbox only */
	size_t flags_cap;
	bool flag_mismatch_at_done, flag_mismatch_after_fetch;
	unsigned keepalives;
};

enum lmtp_step {
	LMTP_NONE, LMTP_CONNECT, LMTP_GREETING, LMTP_LHLO, LMTP_READY,
	LMTP_MAIL, LMTP_RCPT, LMTP_DATA, LMTP_DOT, LMTP_RSET, LMTP_QUIT,
	LMTP_CLOSED
};

struct lmtp_conn {
	struct endpoint ep;
	enum lmtp_step step;
	int delivery;		/* index in lg.deliveries or -1 */
};

enum delivery_purpose { PURPOSE_RATE, PURPOSE_BURST, PURPOSE_SEED };

struct delivery {
	int mbox;
	enum delivery_purpose purpose;
	int64_t t_dot, t_250;
};

struct mailbox {
	bool base_known;
	uint32_t base, confirmed, in_flight;
	int64_t next_allowed;
	int *idlers, n_idlers;
	int *confirmed_deliveries;	/* in 250 order */
	size_t confirmed_cap;
};

enum phase_id {
	PHASE_LMTP, PHASE_SETUP, PHASE_DELIVER, PHASE_BURST, PHASE_STORM,
	PHASE_HOLD, PHASE_TEARDOWN, N_PHASES
};

enum storm_step {
	STORM_SEED, STORM_SEED_SETTLE, STORM_LOGIN, STORM_RUN, STORM_DRAIN,
	STORM_FETCH, STORM_CONVERGE
};

struct reason {
	char text[160];
	unsigned count;
};

struct loadgen {
	int epfd;
	struct endpoint timer;
	bool tty;
	int64_t t_start, deadline, tick_expected, next_progress;
	time_t t_start_real;
	unsigned long ticks;

	struct imap_conn *conns, storm;
	struct lmtp_conn *lmtp;
	int n_lmtp, lmtp_reconnects;
	struct mailbox *mailboxes;
	int *eligible, n_eligible;
	struct delivery *deliveries;
	size_t n_deliveries, deliveries_cap;
	unsigned delivered_ok, deliveries_failed;
	int64_t last_250, pending_pairs;

	enum phase_id phase;
	bool phase_started, paused, timed_out;
	int64_t pause_deadline, pause_started, phase_deadline;
	const char *stage_names[MAX_STAGES];
	int64_t stage_times[MAX_STAGES];
	int n_stages;

	int next_to_connect, setup_in_flight, n_idling, n_conn_failed;
	int64_t t_setup_first, t_setup_last;

	int rr_next, rate_started;
	double effective_rate;
	int64_t next_send, t_first_send, t_last_send;

	int burst_started;
	uint32_t burst_final_count;	/* set when the burst's 250s are in */
	int64_t t_burst_start, t_burst_last_250;

	enum storm_step storm_step;
	bool storm_store_set, storm_final_known, storm_converged;
	int storm_stores, storm_skipped;
	int64_t storm_end, storm_next_store, t_last_store_ok, t_converged;

	time_t t_window_start, t_window_end;
	uint32_t *ka_hist;
	size_t ka_hist_cap;
	unsigned ka_total, expunges_seen, select_mismatches, noop_new;

	struct samples lag_setup, lag_run, lmtp_dot;
	struct reason reasons[MAX_REASONS];
	int n_reasons;
	char warnings[8][200];
	int n_warnings;
};
extern struct loadgen lg;

/* ---- loadgen-io.c ----------------------------------------------------- */

int64_t now_ns(void);
/* Exits with EXIT_INTERNAL when out of memory. */
void *xrealloc(void *p, size_t size);
/* Grows arr to hold at least need elements, zero-filling the new part;
   returns the (maybe moved) array. */
void *array_grow(void *arr, size_t *cap, size_t need, size_t elem_size);
/* Appends and keeps the data NUL terminated. */
void buf_append(struct buf *b, const void *data, size_t len);
void buf_consume(struct buf *b, size_t len);
void samples_add(struct samples *s, int64_t value);
/* True if s starts with word, ignoring case, followed by NUL, space or a
   parenthesis. */
bool word_is(const char *s, const char *word);
/* A note for stderr and the JSON "warnings"; does not fail the run. */
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A failure for the JSON "errors"; any one fails the run. */
void record_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* Sockets. ep_connect() returns 0 or an errno; completion shows up as
   EPOLLOUT and ep_connect_result() then returns 0 or the errno.
   ep_send() writes what the socket takes and queues the rest (-1 on
   error), ep_flush() continues on EPOLLOUT. ep_read() returns bytes read,
   0 at EOF, -1 on error (errno set) and -2 if nothing was there; with
   bytes, also when the kernel received them. */
void ep_set_events(struct endpoint *ep, uint32_t events);
int ep_connect(struct endpoint *ep, int port);
int ep_connect_result(struct endpoint *ep);
void ep_close(struct endpoint *ep);
int ep_send(struct endpoint *ep, const char *data, size_t len);
int ep_flush(struct endpoint *ep);
ssize_t ep_read(struct endpoint *ep, int64_t *received_r);
/* Next complete line of in from *pos, CR/LF cut off and NUL terminated in
   place, or NULL; advances *pos past it. */
char *next_line(struct buf *in, size_t *pos);

/* ---- loadgen-imap.c --------------------------------------------------- */

/* Is this connection's mailbox the flag storm's (flags are tracked)? */
bool tracks_flags(const struct imap_conn *c);
/* An idler whose notifications are still being waited for. */
bool idler_counts(const struct imap_conn *c);
/* Starts connect, greeting, LOGIN, SELECT (and IDLE for idlers). */
void imap_connect(struct imap_conn *c);
/* Sends a tagged command and expects its reply in the step given. */
void imap_command(struct imap_conn *c, enum imap_step step,
		  const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Records the reason, closes the connection, settles its pending pairs. */
void imap_fail(struct imap_conn *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Does c's flag view differ from the storm session's final one? */
bool flags_differ(const struct imap_conn *c);
void imap_event(struct imap_conn *c, uint32_t events);

/* ---- loadgen-lmtp.c --------------------------------------------------- */

void lmtp_connect(struct lmtp_conn *l);
void lmtp_commandf(struct lmtp_conn *l, enum lmtp_step step,
		   const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void lmtp_fail(struct lmtp_conn *l, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void lmtp_event(struct lmtp_conn *l, uint32_t events);
/* Starts one delivery to mbox on a free LMTP connection; false if none is
   free (a dropped one is then reconnected). */
bool delivery_start(int mbox, enum delivery_purpose purpose);
/* Is any transaction in flight? */
bool lmtp_busy(void);
/* Is any LMTP connection open or reconnectable? */
bool lmtp_usable(void);
/* Spacing passed and no transaction in flight to this mailbox. */
bool mailbox_may_receive(int mbox, int64_t now);

/* ---- loadgen-report.c ------------------------------------------------- */

/* Writes the JSON result; returns the exit status (0 or
   EXIT_CHECKS_FAILED). */
int report(FILE *f);

/* ---- loadgen.c -------------------------------------------------------- */

bool storm_enabled(void);
/* Opens connections up to --setup-concurrency while in the setup phase. */
void setup_fill(void);
/* Starts what deliveries the current phase may start now. */
void deliver_kick(void);

#endif
