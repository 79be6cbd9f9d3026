// What this binary is: its version and the commit it was built from. The version lives here
// (the one place to change it); the commit is given when building, since `swift build` has no
// way to ask git: scripts/package.sh passes -Xcc -DSYNWALL_GIT_COMMIT='"<hash>"'. A build
// without it (a plain `swift build` in a fresh clone) says "unknown".
#ifndef SYNWALL_CBUILDINFO_H
#define SYNWALL_CBUILDINFO_H

/// The release version, as `synwall --version` and the package name show it.
#define SYNWALL_VERSION "0.1.0"

/// The version (SYNWALL_VERSION).
const char *synwall_build_version(void);

/// The commit the binary was built from (abbreviated hash, "-dirty" when the tree had
/// uncommitted changes), or "unknown" when the build did not say.
const char *synwall_build_commit(void);

#endif
