/* Copyright (c) 2026 dovecot-imap-idle authors; MIT licence. */

/* loadgen's result: walks every (delivery, idler) pair once and writes the
   JSON document. Durations are in ms; stats use nearest-rank percentiles. */

#include "loadgen-run.h"

#include <string.h>

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
	samples_sort(s);
	for (i = 0; i < s->n; i++)
		sum += s->v[i];
	fprintf(f, ", \"min\": %.3f", s->v[0] / 1e6);
	for (i = 0; i < 3; i++)
		fprintf(f, ", \"p%g\": %.3f", pcts[i],
			samples_percentile(s, pcts[i]) / 1e6);
	fprintf(f, ", \"max\": %.3f, \"mean\": %.3f", s->v[s->n - 1] / 1e6,
		sum / s->n / 1e6);
}

struct pair_totals {
	struct samples latency, burst_final;
	unsigned missed, late_after_done, during_done, burst_missed;
	unsigned flag_mismatch_at_done, flag_mismatch_after_fetch;
	unsigned storm_idlers;
};

/* Walk every (delivery, idler) pair; see the model in loadgen-tally.h. */
static void collect_pairs(const struct run *r, struct pair_totals *t)
{
	int j;
	uint32_t k;

	for (j = 0; j < r->opt.connections; j++) {
		const struct imap_conn *c = &r->conns[j];
		const struct idler *v = &c->view;
		const struct mailbox *mb = &r->tally.mailboxes[v->mbox];
		uint32_t seen = v->done_ok ? v->seen_at_done_ok : v->exists;

		if (!v->started || v->failed)
			continue;
		for (k = 0; k < mb->confirmed; k++) {
			const struct delivery *d = &r->tally.deliveries[
				mb->confirmed_deliveries[k]];
			uint32_t count = mb->base + k + 1;
			int64_t at;

			if (count > seen) {
				t->missed++;
				t->late_after_done += count <= v->exists;
				continue;
			}
			at = k < v->arrival_cap ? v->arrival[k] : 0;
			if (at == 0)
				continue;	/* seen at SELECT */
			t->during_done += v->done_ok && at >= v->t_done_sent;
			if (d->purpose == PURPOSE_RATE)
				samples_add(&t->latency, at - d->t_250);
			if (d->purpose == PURPOSE_BURST &&
			    count == r->burst_final_count)
				samples_add(&t->burst_final, at - d->t_250);
		}
		if (v->mbox == r->opt.burst_user - 1 &&
		    seen < r->burst_final_count)
			t->burst_missed++;
		if (imap_tracks_flags(c)) {
			t->storm_idlers++;
			t->flag_mismatch_at_done += c->flag_mismatch_at_done;
			t->flag_mismatch_after_fetch +=
				c->flag_mismatch_after_fetch;
		}
	}
}

static void report_keepalives(FILE *f, const struct run *r)
{
	size_t i, active = 0, max = 0;
	long window = r->t_window_end < r->t_window_start ? 1 :
		(long)(r->t_window_end - r->t_window_start) + 1;
	unsigned with_ka = 0;
	int c;

	for (c = 0; c < r->opt.connections; c++)
		with_ka += r->conns[c].keepalives > 0;
	for (i = 0; i < r->imap.ka_hist_cap; i++) {
		active += r->imap.ka_hist[i] > 0;
		if (r->imap.ka_hist[i] > max)
			max = r->imap.ka_hist[i];
	}
	fprintf(f, "  \"keepalives\": {\"total\": %u, "
		"\"connections_with_keepalive\": %u, \"max_per_second\": %zu, "
		"\"active_seconds\": %zu, \"mean_per_active_second\": %.3f, "
		"\"window_secs\": %ld, \"mean_per_second\": %.3f, "
		"\"start_epoch\": %ld, \"histogram\": [",
		r->imap.ka_total, with_ka, max, active,
		active ? (double)r->imap.ka_total / active : 0.0, window,
		(double)r->imap.ka_total / window, (long)r->t_start_real);
	for (i = 0, c = 0; i < r->imap.ka_hist_cap; i++) {
		if (r->imap.ka_hist[i] > 0)
			fprintf(f, "%s[%zu, %u]", c++ ? ", " : "", i,
				r->imap.ka_hist[i]);
	}
	fputs("]},\n", f);
}

static void report_storm(FILE *f, const struct run *r,
			 const struct pair_totals *t)
{
	const struct imap_conn *s = &r->storm;
	uint32_t seq, flagged = 0;

	if (!options_storm(&r->opt)) {
		fputs("  \"flag_storm\": null,\n", f);
		return;
	}
	for (seq = 1; seq <= s->view.exists && seq < s->flags_cap; seq++)
		flagged += s->flags[seq] == FLAG_SET;
	fprintf(f, "  \"flag_storm\": {\"user\": %d, \"stores\": %d, "
		"\"skipped_busy\": %d, \"idlers\": %u, \"final_known\": %s, "
		"\"messages\": %u, \"flagged\": %u, \"converged\": %s, "
		"\"converge_ms\": ", r->opt.storm_user, r->storm_stores,
		r->storm_skipped, t->storm_idlers,
		r->imap.flag_reference != NULL ? "true" : "false",
		s->view.exists, flagged,
		r->storm_converged ? "true" : "false");
	json_ms(f, r->storm_converged ?
		r->t_converged - r->imap.t_last_store_ok : -1);
	fprintf(f, ", \"mismatch_at_done\": %u, \"mismatch_after_fetch\": "
		"%u},\n", t->flag_mismatch_at_done,
		t->flag_mismatch_after_fetch);
}

static void report_ramp(FILE *f, const struct run *r)
{
	const struct ramp_step *st;
	int i;

	if (!options_ramp(&r->opt)) {
		fputs("  \"ramp\": null,\n", f);
		return;
	}
	fprintf(f, "  \"ramp\": {\"first_rate\": %g, \"factor\": %g, "
		"\"step_secs\": %d, \"max_rate\": %g, \"knee\": %g, "
		"\"lmtp_connections\": %d, \"stop\": \"%s\", "
		"\"sustained_rate\": %g, \"light_p50_ms\": ", r->opt.rate,
		r->ramp_rules.factor, r->ramp_rules.step_secs,
		r->ramp_rules.max_rate, r->ramp_rules.knee,
		r->opt.lmtp_connections,
		r->n_ramp > 0 ? ramp_stop_name(r->ramp[r->n_ramp - 1].verdict) :
		"not started", ramp_sustained(r->ramp, r->n_ramp));
	json_ms(f, r->n_ramp > 0 ? r->ramp[0].p50_ns : -1);
	fputs(", \"steps\": [", f);
	for (i = 0; i < r->n_ramp; i++) {
		st = &r->ramp[i];
		fprintf(f, "%s{\"rate\": %.3f, \"started\": %d, "
			"\"delivered\": %d, \"failed\": %d, "
			"\"achieved_rate\": %.3f, \"secs\": %.3f, "
			"\"verdict\": \"%s\", \"lmtp_p50_ms\": ", i ? ", " : "",
			st->rate, st->started, st->delivered, st->failed,
			ramp_achieved(&r->ramp_rules, st),
			(st->t_end - st->t_start) / 1e9,
			ramp_stop_name(st->verdict));
		json_ms(f, st->p50_ns);
		fputs(", \"lmtp_p99_ms\": ", f);
		json_ms(f, st->p99_ns);
		fputs("}", f);
	}
	fputs("]},\n", f);
}

static void report_hot(FILE *f, const struct run *r)
{
	if (r->opt.hot_users == 0) {
		fputs("  \"hot\": null,\n", f);
		return;
	}
	fprintf(f, "  \"hot\": {\"users\": %d, \"with_idlers\": %d, "
		"\"share\": %g, \"deliveries\": %d, "
		"\"quiet_deliveries\": %d},\n", r->opt.hot_users, r->n_hot,
		r->opt.hot_share, r->hot_started,
		r->rate_started - r->hot_started);
}

/* Writes the JSON document; returns the exit status. */
int report(FILE *f, struct run *r)
{
	struct pair_totals t;
	int64_t setup_ns = r->imap.t_setup_last == 0 ? 0 :
		r->imap.t_setup_last - r->t_setup_first;
	int64_t send_ns = r->t_last_send - r->t_first_send;
	unsigned flag_mismatches;
	int i, status;

	memset(&t, 0, sizeof(t));
	collect_pairs(r, &t);
	flag_mismatches = t.flag_mismatch_at_done +
		t.flag_mismatch_after_fetch;
	status = t.missed > 0 || r->imap.noop_new > 0 ||
		r->imap.n_conn_failed > 0 || r->tally.deliveries_failed > 0 ||
		flag_mismatches > 0 || r->diag.n_reasons > 0 ||
		(options_storm(&r->opt) && r->imap.flag_reference == NULL) ?
		EXIT_CHECKS_FAILED : 0;

	fputs("{\n  \"tool\": \"loadgen\", \"version\": 1,\n", f);
	fprintf(f, "  \"ok\": %s, \"timed_out\": %s,\n",
		status == 0 ? "true" : "false",
		r->timed_out ? "true" : "false");
	fputs("  \"config\": {", f);
	options_json(f, &r->opt);
	fputs("},\n", f);
	fprintf(f, "  \"setup\": {\"connections\": %d, \"idling\": %d, "
		"\"failed\": %d, \"mailboxes_with_idlers\": %d, "
		"\"duration_ms\": %.3f, \"rate_per_sec\": %.1f, "
		"\"select_count_mismatches\": %u},\n", r->opt.connections,
		r->imap.n_idling, r->imap.n_conn_failed,
		r->n_eligible + r->n_hot, setup_ns / 1e6,
		setup_ns > 0 ? r->imap.n_idling * 1e9 / setup_ns : 0.0,
		r->tally.select_mismatches);
	fprintf(f, "  \"deliveries\": {\"requested\": %d, \"started\": %d, "
		"\"delivered_total\": %u, \"failed\": %u, "
		"\"effective_rate\": %.3f, \"rate_limited_by_spacing\": %s, "
		"\"achieved_rate\": %.3f, \"lmtp_reconnects\": %d},\n",
		r->opt.messages, r->rate_started, r->tally.delivered_ok,
		r->tally.deliveries_failed, r->effective_rate,
		r->effective_rate < r->opt.rate ? "true" : "false",
		send_ns > 0 ? (r->rate_started - 1) * 1e9 / send_ns : 0.0,
		r->lmtp.reconnects);
	fprintf(f, "  \"latency_ms\": {\"missed\": %u, ", t.missed);
	json_stats_fields(f, &t.latency);
	fputs("},\n", f);
	fputs("  \"lmtp_dot_to_250_ms\": {", f);
	json_stats_fields(f, &r->tally.lmtp_dot);
	fputs("},\n", f);
	if (r->opt.burst > 0) {
		fprintf(f, "  \"burst\": {\"user\": %d, \"messages\": %d, "
			"\"final_count\": %u, \"idlers_missed\": %u, "
			"\"duration_ms\": ", r->opt.burst_user, r->opt.burst,
			r->burst_final_count, t.burst_missed);
		json_ms(f, r->t_burst_last_250 == 0 ? -1 :
			r->t_burst_last_250 - r->t_burst_start);
		fputs(", \"final_exists_ms\": {", f);
		json_stats_fields(f, &t.burst_final);
		fputs("}},\n", f);
	} else {
		fputs("  \"burst\": null,\n", f);
	}
	report_storm(f, r, &t);
	report_ramp(f, r);
	report_hot(f, r);
	report_keepalives(f, r);
	fputs("  \"loop_lag_ms\": {\"setup\": {", f);
	json_stats_fields(f, &r->lag_setup);
	fputs("}, \"run\": {", f);
	json_stats_fields(f, &r->lag_run);
	fputs("}},\n", f);
	fprintf(f, "  \"done_check\": {\"seen_during_done\": %u, "
		"\"late_after_done\": %u, \"noop_new_exists_connections\": %u, "
		"\"expunges_seen\": %u},\n", t.during_done,
		t.late_after_done, r->imap.noop_new, r->imap.expunges_seen);
	fprintf(f, "  \"missed\": %u, \"late_after_done\": %u, "
		"\"flag_mismatches\": %u,\n", t.missed, t.late_after_done,
		flag_mismatches);
	fprintf(f, "  \"errors\": {\"connection_failures\": %d, "
		"\"delivery_failures\": %u, \"reasons\": [",
		r->imap.n_conn_failed,
		r->tally.deliveries_failed);
	for (i = 0; i < r->diag.n_reasons; i++) {
		fputs(i ? ", {\"reason\": " : "{\"reason\": ", f);
		json_string(f, r->diag.reasons[i].text);
		fprintf(f, ", \"count\": %u}", r->diag.reasons[i].count);
	}
	fputs("]},\n  \"warnings\": [", f);
	for (i = 0; i < r->diag.n_warnings; i++) {
		fputs(i ? ", " : "", f);
		json_string(f, r->diag.warnings[i]);
	}
	fputs("],\n  \"stages\": [", f);
	for (i = 0; i < r->n_stages; i++)
		fprintf(f, "%s{\"name\": \"%s\", \"t_ms\": %.3f}",
			i ? ", " : "", r->stage_names[i],
			(r->stage_times[i] - r->t_start) / 1e6);
	fputs("]\n}\n", f);
	return status;
}
