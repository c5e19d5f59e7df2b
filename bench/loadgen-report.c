/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* loadgen's result: walks every (delivery, idler) pair once and writes the
   JSON document. Durations are in ms; stats use nearest-rank percentiles. */

#include "loadgen.h"

static int cmp_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples. */
static int64_t percentile(const struct samples *s, double p)
{
	double exact = p / 100.0 * s->n;
	size_t rank = (size_t)exact;

	if (rank < exact)
		rank++;		/* ceil() without libm */

	return s->v[rank == 0 ? 0 : rank - 1];
}

static void json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(f, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(f, "\\u%04x", *s);
		else
			fputc(*s, f);
	}
	fputc('"', f);
}

/* A duration in ms, or null for a negative (unknown) one. */
static void json_ms(FILE *f, int64_t ns)
{
	if (ns < 0)
		fputs("null", f);
	else
		fprintf(f, "%.3f", ns / 1e6);
}

/* "count", min, p50, p90, p99, max, mean in ms; no braces. */
static void json_stats_fields(FILE *f, struct samples *s)
{
	static const double pcts[] = { 50, 90, 99 };
	double sum = 0;
	size_t i;

	fprintf(f, "\"count\": %zu", s->n);
	if (s->n == 0) {
		fputs(", \"min\": null, \"p50\": null, \"p90\": null, "
		      "\"p99\": null, \"max\": null, \"mean\": null", f);
		return;
	}
	qsort(s->v, s->n, sizeof(*s->v), cmp_int64);
	for (i = 0; i < s->n; i++)
		sum += s->v[i];
	fprintf(f, ", \"min\": %.3f", s->v[0] / 1e6);
	for (i = 0; i < 3; i++)
		fprintf(f, ", \"p%g\": %.3f", pcts[i],
			percentile(s, pcts[i]) / 1e6);
	fprintf(f, ", \"max\": %.3f, \"mean\": %.3f", s->v[s->n - 1] / 1e6,
		sum / s->n / 1e6);
}

struct pair_totals {
	struct samples latency, burst_final;
	unsigned missed, late_after_done, during_done, burst_missed;
	unsigned flag_mismatch_at_done, flag_mismatch_after_fetch;
	unsigned storm_idlers;
};

/* Walk every (delivery, idler) pair; see the model in loadgen.h. */
static void collect_pairs(struct pair_totals *t)
{
	int m, i;
	uint32_t k;

	for (m = 0; m < opt.users; m++) {
		struct mailbox *mb = &lg.mailboxes[m];

		for (i = 0; i < mb->n_idlers; i++) {
			struct imap_conn *c = &lg.conns[mb->idlers[i]];
			uint32_t seen = c->done_ok ? c->seen_at_done_ok :
				c->exists;

			if (!c->idle_started || c->failed)
				continue;
			for (k = 0; k < mb->confirmed; k++) {
				struct delivery *d = &lg.deliveries[
					mb->confirmed_deliveries[k]];
				uint32_t count = mb->base + k + 1;
				int64_t at;

				if (count > seen) {
					t->missed++;
					t->late_after_done += count <= c->exists;
					continue;
				}
				at = k < c->arrival_cap ? c->arrival[k] : 0;
				if (at == 0)
					continue;	/* seen at SELECT */
				t->during_done += c->done_ok &&
					at >= c->t_done_sent;
				if (d->purpose == PURPOSE_RATE)
					samples_add(&t->latency, at - d->t_250);
				if (d->purpose == PURPOSE_BURST &&
				    count == lg.burst_final_count)
					samples_add(&t->burst_final,
						    at - d->t_250);
			}
			if (m == opt.burst_user - 1 &&
			    seen < lg.burst_final_count)
				t->burst_missed++;
			if (tracks_flags(c)) {
				t->storm_idlers++;
				t->flag_mismatch_at_done +=
					c->flag_mismatch_at_done;
				t->flag_mismatch_after_fetch +=
					c->flag_mismatch_after_fetch;
			}
		}
	}
}

static void report_config(FILE *f)
{
	size_t i;
	const char *p;

	fputs("  \"config\": {", f);
	for (i = 0; i < n_option_defs; i++) {
		const struct option_def *o = &option_defs[i];

		fputs(i == 0 ? "\"" : ", \"", f);
		for (p = o->name; *p != '\0'; p++)
			fputc(*p == '-' ? '_' : *p, f);
		fputs("\": ", f);
		if (o->value == &opt.password)
			fputs("\"(not shown)\"", f);
		else if (o->type == ARG_STR &&
			 *(const char **)o->value == NULL)
			fputs("null", f);
		else if (o->type == ARG_STR)
			json_string(f, *(const char **)o->value);
		else if (o->type == ARG_DOUBLE)
			fprintf(f, "%g", *(double *)o->value);
		else
			fprintf(f, "%d", *(int *)o->value);
	}
	fputs("},\n", f);
}

static void report_keepalives(FILE *f)
{
	size_t i, active = 0, max = 0;
	long window = lg.t_window_end < lg.t_window_start ? 1 :
		(long)(lg.t_window_end - lg.t_window_start) + 1;
	unsigned with_ka = 0;
	int c;

	for (c = 0; c < opt.connections; c++)
		with_ka += lg.conns[c].keepalives > 0;
	for (i = 0; i < lg.ka_hist_cap; i++) {
		active += lg.ka_hist[i] > 0;
		if (lg.ka_hist[i] > max)
			max = lg.ka_hist[i];
	}
	fprintf(f, "  \"keepalives\": {\"total\": %u, "
		"\"connections_with_keepalive\": %u, \"max_per_second\": %zu, "
		"\"active_seconds\": %zu, \"mean_per_active_second\": %.3f, "
		"\"window_secs\": %ld, \"mean_per_second\": %.3f, "
		"\"start_epoch\": %ld, \"histogram\": [",
		lg.ka_total, with_ka, max, active,
		active ? (double)lg.ka_total / active : 0.0, window,
		(double)lg.ka_total / window, (long)lg.t_start_real);
	for (i = 0, c = 0; i < lg.ka_hist_cap; i++) {
		if (lg.ka_hist[i] > 0)
			fprintf(f, "%s[%zu, %u]", c++ ? ", " : "", i,
				lg.ka_hist[i]);
	}
	fputs("]},\n", f);
}

static void report_storm(FILE *f, const struct pair_totals *t)
{
	const struct imap_conn *s = &lg.storm;
	uint32_t seq, flagged = 0;

	if (!storm_enabled()) {
		fputs("  \"flag_storm\": null,\n", f);
		return;
	}
	for (seq = 1; seq <= s->exists && seq < s->flags_cap; seq++)
		flagged += s->flags[seq] == FLAG_SET;
	fprintf(f, "  \"flag_storm\": {\"user\": %d, \"stores\": %d, "
		"\"skipped_busy\": %d, \"idlers\": %u, \"final_known\": %s, "
		"\"messages\": %u, \"flagged\": %u, \"converged\": %s, "
		"\"converge_ms\": ", opt.storm_user, lg.storm_stores,
		lg.storm_skipped, t->storm_idlers,
		lg.storm_final_known ? "true" : "false", s->exists, flagged,
		lg.storm_converged ? "true" : "false");
	json_ms(f, lg.storm_converged ? lg.t_converged - lg.t_last_store_ok :
		-1);
	fprintf(f, ", \"mismatch_at_done\": %u, \"mismatch_after_fetch\": "
		"%u},\n", t->flag_mismatch_at_done,
		t->flag_mismatch_after_fetch);
}

/* Writes the JSON document; returns the exit status. */
int report(FILE *f)
{
	struct pair_totals t;
	int64_t setup_ns = lg.t_setup_last == 0 ? 0 :
		lg.t_setup_last - lg.t_setup_first;
	int64_t send_ns = lg.t_last_send - lg.t_first_send;
	unsigned flag_mismatches;
	int i, status;

	memset(&t, 0, sizeof(t));
	collect_pairs(&t);
	flag_mismatches = t.flag_mismatch_at_done +
		t.flag_mismatch_after_fetch;
	status = t.missed > 0 || lg.noop_new > 0 || lg.n_conn_failed > 0 ||
		lg.deliveries_failed > 0 || flag_mismatches > 0 ||
		lg.n_reasons > 0 || (storm_enabled() &&
				     !lg.storm_final_known) ?
		EXIT_CHECKS_FAILED : 0;

	fputs("{\n  \"tool\": \"loadgen\", \"version\": 1,\n", f);
	fprintf(f, "  \"ok\": %s, \"timed_out\": %s,\n",
		status == 0 ? "true" : "false",
		lg.timed_out ? "true" : "false");
	report_config(f);
	fprintf(f, "  \"setup\": {\"connections\": %d, \"idling\": %d, "
		"\"failed\": %d, \"mailboxes_with_idlers\": %d, "
		"\"duration_ms\": %.3f, \"rate_per_sec\": %.1f, "
		"\"select_count_mismatches\": %u},\n", opt.connections,
		lg.n_idling, lg.n_conn_failed, lg.n_eligible, setup_ns / 1e6,
		setup_ns > 0 ? lg.n_idling * 1e9 / setup_ns : 0.0,
		lg.select_mismatches);
	fprintf(f, "  \"deliveries\": {\"requested\": %d, \"started\": %d, "
		"\"delivered_total\": %u, \"failed\": %u, "
		"\"effective_rate\": %.3f, \"rate_limited_by_spacing\": %s, "
		"\"achieved_rate\": %.3f, \"lmtp_reconnects\": %d},\n",
		opt.messages, lg.rate_started, lg.delivered_ok,
		lg.deliveries_failed, lg.effective_rate,
		lg.effective_rate < opt.rate ? "true" : "false",
		send_ns > 0 ? (lg.rate_started - 1) * 1e9 / send_ns : 0.0,
		lg.lmtp_reconnects);
	fprintf(f, "  \"latency_ms\": {\"missed\": %u, ", t.missed);
	json_stats_fields(f, &t.latency);
	fputs("},\n", f);
	fputs("  \"lmtp_dot_to_250_ms\": {", f);
	json_stats_fields(f, &lg.lmtp_dot);
	fputs("},\n", f);
	if (opt.burst > 0) {
		fprintf(f, "  \"burst\": {\"user\": %d, \"messages\": %d, "
			"\"final_count\": %u, \"idlers_missed\": %u, "
			"\"duration_ms\": ", opt.burst_user, opt.burst,
			lg.burst_final_count, t.burst_missed);
		json_ms(f, lg.t_burst_last_250 == 0 ? -1 :
			lg.t_burst_last_250 - lg.t_burst_start);
		fputs(", \"final_exists_ms\": {", f);
		json_stats_fields(f, &t.burst_final);
		fputs("}},\n", f);
	} else {
		fputs("  \"burst\": null,\n", f);
	}
	report_storm(f, &t);
	report_keepalives(f);
	fputs("  \"loop_lag_ms\": {\"setup\": {", f);
	json_stats_fields(f, &lg.lag_setup);
	fputs("}, \"run\": {", f);
	json_stats_fields(f, &lg.lag_run);
	fputs("}},\n", f);
	fprintf(f, "  \"done_check\": {\"seen_during_done\": %u, "
		"\"late_after_done\": %u, \"noop_new_exists_connections\": %u, "
		"\"expunges_seen\": %u},\n", t.during_done,
		t.late_after_done, lg.noop_new, lg.expunges_seen);
	fprintf(f, "  \"missed\": %u, \"late_after_done\": %u, "
		"\"flag_mismatches\": %u,\n", t.missed, t.late_after_done,
		flag_mismatches);
	fprintf(f, "  \"errors\": {\"connection_failures\": %d, "
		"\"delivery_failures\": %u, \"reasons\": [", lg.n_conn_failed,
		lg.deliveries_failed);
	for (i = 0; i < lg.n_reasons; i++) {
		fputs(i ? ", {\"reason\": " : "{\"reason\": ", f);
		json_string(f, lg.reasons[i].text);
		fprintf(f, ", \"count\": %u}", lg.reasons[i].count);
	}
	fputs("]},\n  \"warnings\": [", f);
	for (i = 0; i < lg.n_warnings; i++) {
		fputs(i ? ", " : "", f);
		json_string(f, lg.warnings[i]);
	}
	fputs("],\n  \"stages\": [", f);
	for (i = 0; i < lg.n_stages; i++)
		fprintf(f, "%s{\"name\": \"%s\", \"t_ms\": %.3f}", i ? ", " : "",
			lg.stage_names[i], (lg.stage_times[i] - lg.t_start) / 1e6);
	fputs("]\n}\n", f);
	return status;
}
