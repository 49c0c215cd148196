/*
 * ctl: the `tickpipe` operator command. Subcommands so far:
 *   check-config FILE   validate FILE, print every error as file:line: key: reason, exit 0 or 2
 *   config-reference    print the reference YAML (every key, default, range, env name)
 *   version             print the version
 */
#ifndef SUPERVISOR_CTL_H
#define SUPERVISOR_CTL_H

/* Run the subcommand in argv[1..]. Returns the process exit code (0, 1, or 2 for usage). */
int ctl_run(int argc, char **argv);

#endif
