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
# plugin (tools/costmodel/).
.PHONY: bench bench-quick bench-iommu
bench: all $(COST_PLUGIN)
	$(Q)$(PYTHON) tests/bench.py --rounds 10 --pages 256

# The IOMMU's cost per fault (translation off, three invalidation modes,
# zero-touch off) on q35 under -icount: tests/iommu_bench.py.
bench-iommu: all
	$(Q)$(PYTHON) tests/iommu_bench.py

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
