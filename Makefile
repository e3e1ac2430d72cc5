# SPDX-License-Identifier: MIT
# Ferry: one non-recursive Makefile.  Each directory adds its part in a
# short build.mk; everything lands under build/.
#
#   make            build/ferry.iso (kernel + user programs as GRUB modules)
#   make run        boot it in QEMU, serial console on this terminal; exits 0
#                   on a power-off, non-zero with the reason on a panic
#                   (FERRY_CMDLINE='loglevel=debug console=ps': kernel options)
#   make test       host unit tests + tests that boot Ferry in QEMU
#   make bench      the benchmark and cost model (tests/bench.py); bench-peer: Linux 6.12 peer
#   make debug      boot with QEMU's gdb stub, waiting for `gdb -x build/ferry.gdb`
#   make compdb     compile_commands.json for editors
#   make check-fresh  a new user's trial on a debootstrapped Debian 12 (root; downloads)
#   V=1             show full commands

BUILD   := build
V       ?= 0
ifeq ($(V),1)
Q :=
say :=
else
Q := @
say = @printf '  %-6s %s\n' $(1) $(2);
endif

CC      := clang
LD      := ld.lld
NM      := llvm-nm
PYTHON  := python3
DEPS    := scripts/deps.sh

WARN    := -Wall -Wextra -Werror -Wstrict-prototypes -Wmissing-prototypes -Wshadow
FREESTANDING := -target x86_64-unknown-none -ffreestanding -nostdlibinc -fno-stack-protector \
	-mno-red-zone -mgeneral-regs-only -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
	-std=c11 -g -O2 $(WARN) -Ilib/include
KERNEL_CFLAGS := $(FREESTANDING) -mcmodel=kernel -fno-pic -Ikernel

.PHONY: all run test debug compdb clean deps
all: $(BUILD)/ferry.iso $(BUILD)/disk.img

# Every target that needs a tool depends on this (order-only): the script
# checks for all tools and installs what is missing when run as root.  It
# needs no make itself: ./ferry runs it first, on machines without make.
deps:
	$(Q)sh $(DEPS)

# Not part of test: it debootstraps a system and downloads its packages.
.PHONY: check-fresh
check-fresh:
	$(Q)sh scripts/check-fresh.sh

include lib/build.mk
include kernel/build.mk
include tools/costmodel/build.mk
include tests/build.mk
include user/build.mk

# modules.txt changes exactly when a module's arguments do: the ISO follows.
ISO_MODULES := $(BUILD)/ferry.sym:symbols $(USER_MODULES)
$(BUILD)/ferry.iso: $(BUILD)/ferry.elf $(BUILD)/ferry.sym $(USER_MODULE_FILES) $(BUILD)/modules.txt \
		scripts/mkiso.sh | deps
	$(call say,ISO,$@)
	$(Q)sh scripts/mkiso.sh $@ $(BUILD)/ferry.elf "" $(foreach m,$(ISO_MODULES),'$(subst +, ,$(m))')

run: $(BUILD)/ferry.iso $(BUILD)/disk.img
	$(Q)$(PYTHON) tests/ferry.py run --iso $(BUILD)/ferry.iso

debug: $(BUILD)/ferry.iso $(BUILD)/disk.img
	$(Q)$(PYTHON) tests/ferry.py run --iso $(BUILD)/ferry.iso --gdb

compdb: all
	$(Q)(echo '['; cat $$(find $(BUILD) -name '*.o.json') | sed '$$ s/,$$//'; echo ']') \
		> compile_commands.json
	@echo "wrote compile_commands.json"

clean:
	rm -rf $(BUILD) compile_commands.json

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
