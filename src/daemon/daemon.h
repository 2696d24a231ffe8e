/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The certdesk program: one binary with subcommands (init, serve, ca ...,
 * admin ..., audit ...). main() only calls daemon_main(), so the whole
 * command line can also be driven from tests in-process.
 *
 * Runs in the main certdesk process, as the operator who typed the command
 * (or the service manager). It trusts the data directory it is pointed at
 * and its configuration file; it does not trust command-line values, CSR
 * files or anything read over the network.
 */
#ifndef CERTDESK_DAEMON_DAEMON_H
#define CERTDESK_DAEMON_DAEMON_H

/* Exit statuses of every subcommand. */
enum {
	DAEMON_EXIT_OK = 0,
	DAEMON_EXIT_FAIL = 1,	/* operational failure (file, refusal) */
	DAEMON_EXIT_USAGE = 2,	/* bad command line */
};

/*
 * Runs the command line argv[0..argc) (argv[0] is the program name) and
 * returns the process exit status (DAEMON_EXIT_*). Messages for the user go
 * to stderr as one line "certdesk: <command>: <what>"; results (PEM, IDs,
 * listings) go to stdout. Never exits the process itself, except that
 * `serve` runs until SIGINT or SIGTERM.
 */
int daemon_main(int argc, char **argv);

#endif
