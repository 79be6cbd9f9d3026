#include "CBuildInfo.h"

// Defined on the compiler's command line by scripts/package.sh (see CBuildInfo.h).
#ifndef SYNWALL_GIT_COMMIT
#define SYNWALL_GIT_COMMIT "unknown"
#endif

const char *synwall_build_version(void) { return SYNWALL_VERSION; }

const char *synwall_build_commit(void) { return SYNWALL_GIT_COMMIT; }
