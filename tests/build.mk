# tests/: host unit tests (kernel and lib .c files built for the host under
# ASan+UBSan) and the QEMU test runner.
HOST_TESTS := $(patsubst tests/host/%.c,$(BUILD)/host/%,$(filter-out tests/host/htest_main.c,$(wildcard tests/host/*.c)))
HOST_TEST_CFLAGS := -std=c11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-builtin -fno-omit-frame-pointer $(WARN) -DLIB_HOST_TEST -D_DEFAULT_SOURCE -idirafter lib/include

$(BUILD)/host/%: tests/host/%.c tests/host/htest_main.c tests/host/htest.h | deps
	$(call say,HOSTCC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(HOST_TEST_CFLAGS) -MMD -MP -MF $@.d -MJ $@.o.json tests/host/htest_main.c $< -o $@

test: all $(HOST_TESTS) $(COST_PLUGIN)
	$(Q)$(PYTHON) tests/run.py --host $(HOST_TESTS) tests/runner_selftest.py tests/bench_selftest.py

# The benchmark: not a test (timings belong in benchmarks); `make test` only
# checks that a tiny run under the cost-model plugin completes and writes
# every counter into a well-formed CSV.  Its icount boots run under the
# plugin (tools/costmodel/); the SMP cells (bench_smp.py) come last, on
# multi-threaded TCG.
.PHONY: bench bench-quick bench-smp bench-iommu
bench: all $(COST_PLUGIN)
	$(Q)$(PYTHON) tests/bench.py --rounds 10 --pages 256
	$(Q)$(PYTHON) tests/bench_smp.py

# TLB shootdowns and every other IPI on 2 CPUs, Ferry against the Linux
# peer, both under the cost-model plugin (tests/bench_smp.py).
bench-smp: all $(COST_PLUGIN)
	$(Q)$(PYTHON) tests/bench_smp.py

# make bench's IOMMU cells alone (tests/bench_iommu.py): the swap partition
# on IDE and NVMe, q35 with the IOMMU off, each invalidation mode and
# zero-touch off, icount and the cost-model plugin as in make bench.
bench-iommu: all $(COST_PLUGIN)
	$(Q)$(PYTHON) tests/bench.py --iommu --rounds 10 --pages 256

bench-quick: all $(COST_PLUGIN)
	$(Q)$(PYTHON) tests/bench.py --rounds 2 --pages 128 --iters 5000

# The Linux 6.12 peer (peer/linux/): Debian's kernel in the same QEMU, its
# icount boot under the same plugin; fetched once into ~/.cache/ferry-peer;
# results land there for `make bench`.
.PHONY: bench-peer
bench-peer: $(BUILD)/disk.img $(COST_PLUGIN)
	$(Q)sh $(DEPS) peer && $(PYTHON) peer/linux/run.py

# The long chaos run (tests/cases/chaos.py): CHAOS_ROUNDS kills (default 63,
# 21 of each of ata, swapd and fs) at seeded random moments; CHAOS_SEED
# repeats a run (the seed is printed as a figure).
.PHONY: chaos
chaos: all
	$(Q)CHAOS_LONG=1 $(PYTHON) tests/run.py --only chaos_long
