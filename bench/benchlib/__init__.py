# Copyright (c) 2026 dovecot-imap-idle authors; MIT licence.
"""bench/run's parts, one concern each; bench/run is the entry point.

  console     progress line, say(), signals and the cleanup guard
  host        the machine around a run: inotify sysctl, the mail stores'
              filesystem, writeback settling, the bench's mail uid
  accounting  /proc sampling of a Dovecot process tree (CPU, Pss), also
              while a phase runs
  dovecot_log Dovecot log lines grouped and counted by level
  rounds      one side's run (Dovecot + loadgen driven stage by stage)
              and the ABBA order of the sides over the rounds
  stats       derived metrics of a run and the rounds combined per side
  report      tables, details, targets, markdown and the JSON file
  sides       which builds are compared: stock against the plugin, or
              two plugin builds

Imports go one way: rounds -> accounting, host, console, dovecot_log,
stats; report -> stats, sides; nothing imports rounds or report but
bench/run."""
