// libpcap for Swift: reading (and, in tests, writing) pcap and pcapng files.
#ifndef SYNWALL_CPCAP_SHIM_H
#define SYNWALL_CPCAP_SHIM_H
#include <sys/socket.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#endif
