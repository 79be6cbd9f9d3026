// libsystemd's sd-daemon protocol: readiness notification, the file-descriptor store and socket
// handover (sd_notify(3), sd_listen_fds(3)). Nothing of our own.
#include <sys/socket.h>
#include <netinet/in.h>
#include <systemd/sd-daemon.h>
