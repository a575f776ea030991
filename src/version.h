/* version.h — the version termscope reports. */
#ifndef TERMSCOPE_VERSION_H
#define TERMSCOPE_VERSION_H
#define TERMSCOPE_VERSION "0.1.0"
#endif
