# lib/: code shared by the kernel and user programs.  LIB_PURE is compiled
# into both (freestanding) and host-tested.
LIB_PURE := lib/string.c lib/fmt.c lib/alloc.c
