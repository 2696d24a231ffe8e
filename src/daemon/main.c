/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The certdesk binary. Everything happens in daemon_main() (cli.c) so that
 * tests can drive the command line in-process; this file only holds main().
 */
#include "daemon/daemon.h"

int
main(int argc, char **argv)
{
	return daemon_main(argc, argv);
}
