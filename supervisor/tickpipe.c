/* tickpipe: the operator command (status, logs, tail, check-config, ...). */
#include "ctl.h"
#include "log.h"

int
main(int argc, char **argv)
{
    log_init("tickpipe");
    return ctl_run(argc, argv);
}
