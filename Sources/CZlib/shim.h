// zlib, for reading gzip'd rotated event logs (EventLog's LogFileSource). Nothing of our own.
#include <zlib.h>
