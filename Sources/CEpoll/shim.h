#ifndef CEPOLL_SHIM_H
#define CEPOLL_SHIM_H
// Linux's readiness API, which Glibc's Swift module does not carry: PostgresReactor waits on
// the sockets of connections with a statement in flight.
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
#endif
