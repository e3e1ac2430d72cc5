# user/: the programs.  Program NAME is every .c file in user/NAME/ linked
# with the user library: lib/'s pure files and lib/user/, compiled with
# user flags into $(BUILD)/user/lib/.  A new program is a directory and a
# word here.  Those that run before fs does, or start the system in a test
# boot, are boot modules (in this order, init first); the others go into
# the disk's /bin and run from there (sys_spawn_file, docs/PROGRAMS.md).
USER_MODULE_PROGS := init ata nvme swapd fs sh utest blktest
USER_DISK_PROGS := pagetest bench hello
USER_PROGS := $(USER_MODULE_PROGS) $(USER_DISK_PROGS)

USER_CFLAGS  := $(FREESTANDING) -fno-pic
USER_LDFLAGS := -static -nostdlib -z max-page-size=4096 -z separate-loadable-segments \
	--image-base=0x400000 -e _start
USER_LIB_OBJS := $(patsubst lib/%.c,$(BUILD)/user/lib/%.o,$(LIB_PURE) $(wildcard lib/user/*.c)) \
	$(BUILD)/user/lib/user/crt0.o
USER_ELFS := $(foreach p,$(USER_PROGS),$(BUILD)/user/$(p).elf)

# Malformed copies of utest.elf, each broken in one way, which utest's
# malformed_elf case asks the kernel to spawn.  Module name = file name.
BAD_ELFS := bad_magic bad_class bad_machine truncated phdr_out_of_bounds kernel_address \
	entry_outside overlapping filesz_gt_memsz writable_exec truncated_after_headers \
	segment_past_eof
BAD_ELF_FILES := $(addprefix $(BUILD)/bad/,$(BAD_ELFS))

# Module arguments after a program's name, for programs that take their
# boot configuration there.  Make lists split at spaces, so '+' stands for
# a space here; the ISO rule and modules.txt turn it back.
# ata and nvme: none, so every partition goes to the program its contents
# call for (a swap area to swapd, an ext2 file system to fs: <part.h>);
# `partN=prog` overrides that for partition N, e.g. USER_ARGS_ata :=
# part1=swapd+part2=fs (user/ata/main.c, user/nvme/main.c).
USER_ARGS_ata :=
USER_ARGS_nvme :=
# swapd's store (user/swapd/main.c): `disk`, the swap partition ata gives
# it (the one holding a swap area, mkswap'ed by scripts/mkdisk.sh), or `ram PAGES`, pinned
# RAM.  The RAM store stays for the benchmark, to tell the kernel's cost
# from the disk's: a boot gets it by this module line saying `swapd ram
# 4096` instead (same ELF, same rights; tests/cases/swap.py store_modules()
# builds such module lists for tests/ferry.py's make_iso).  Disk by PIO
# only: ata's line says `dma=off` as well; swapd then registers no DMA.
USER_ARGS_swapd := disk
# A second swap provider on a swap file of the ext2 file system (the
# module `swapfile`, the swapd ELF: iso/ferry.conf gives it its rights):
# `make SWAPFILE=/swapfile run`.  scripts/mkdisk.sh puts a 4 MiB /swapfile
# in build/disk.img.  Off by default.
SWAPFILE ?=

# FILE:ARGS pairs, in boot order (the symbols module goes in front of
# them): the boot configuration, then the programs.  build/ferry.iso has
# these and nothing else.
USER_MODULES := iso/ferry.conf:config \
	$(foreach p,$(USER_MODULE_PROGS),$(BUILD)/user/$(p).elf:$(p)$(if $(USER_ARGS_$(p)),+$(USER_ARGS_$(p)))) \
	$(if $(SWAPFILE),$(BUILD)/user/swapd.elf:swapfile+file+$(SWAPFILE))
USER_MODULE_FILES := iso/ferry.conf $(foreach p,$(USER_MODULE_PROGS),$(BUILD)/user/$(p).elf)

# Modules only tests boot with, after the ones above: the bad ELFs, and
# utest's ELF once more as "utestrogue", a name the boot configuration
# gives no rights (cases that check a refusal spawn their helper as it).
# The cases that need them add them to their own ISO (tests/ferry.py
# test_modules()); interactive boots never list them.
TEST_MODULES := $(foreach b,$(BAD_ELFS),$(BUILD)/bad/$(b):$(b)) $(BUILD)/user/utest.elf:utestrogue

all: $(BUILD)/modules.txt $(BUILD)/test-modules.txt $(BAD_ELF_FILES) $(USER_ELFS)

$(BUILD)/user/lib/%.o: lib/%.c | deps
	$(call say,CC,'$< [user]')
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -MMD -MP -MJ $@.json -c $< -o $@

$(BUILD)/user/lib/%.o: lib/%.S | deps
	$(call say,AS,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -MMD -MP -MJ $@.json -c $< -o $@

$(BUILD)/user/%.o: user/%.c | deps
	$(call say,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(USER_CFLAGS) -MMD -MP -MJ $@.json -c $< -o $@

define USER_PROG_RULE
$(BUILD)/user/$(1).elf: $(patsubst %.c,$(BUILD)/%.o,$(sort $(wildcard user/$(1)/*.c))) $(USER_LIB_OBJS)
	$$(call say,LD,$$@)
	$$(Q)$$(LD) $$(USER_LDFLAGS) -o $$@ $$^
endef
$(foreach p,$(USER_PROGS),$(eval $(call USER_PROG_RULE,$(p))))

# The disk QEMU attaches as the primary IDE master: a mkswap'ed swap
# partition and an ext2 partition made (scripts/mkdisk.sh) from disk/files/
# and /bin, the disk programs, gathered in $(DISK_ROOT).
DISK_FILES := $(shell find disk/files 2>/dev/null)
DISK_FS_BLOCK ?= 1024
DISK_ROOT := $(BUILD)/diskroot
$(BUILD)/disk.img: scripts/mkdisk.sh $(DISK_FILES) $(foreach p,$(USER_DISK_PROGS),$(BUILD)/user/$(p).elf) | deps
	$(call say,DISK,$@)
	@mkdir -p $(@D)
	$(Q)rm -rf $(DISK_ROOT) && mkdir -p $(DISK_ROOT)/bin && cp -R disk/files/. $(DISK_ROOT)/
	$(Q)for p in $(USER_DISK_PROGS); do cp $(BUILD)/user/$$p.elf $(DISK_ROOT)/bin/$$p; done
	$(Q)FS_BLOCK=$(DISK_FS_BLOCK) sh scripts/mkdisk.sh $@ $(DISK_ROOT)

$(BAD_ELF_FILES) &: $(BUILD)/user/utest.elf tools/mkbadelf.py
	$(call say,BADELF,$(BUILD)/bad/)
	$(Q)$(PYTHON) tools/mkbadelf.py $< $(BUILD)/bad

# The module lists for tests/ferry.py, "FILE ARGS" per line.  Rewritten
# only when they change, so they never look newer than they are.
write_module_list = printf '%s\n' $(foreach m,$(1),'$(subst +, ,$(subst :, ,$(m)))') > $@.tmp && \
	{ cmp -s $@.tmp $@ && rm $@.tmp || mv $@.tmp $@; }

$(BUILD)/modules.txt: FORCE
	@mkdir -p $(@D)
	$(Q)$(call write_module_list,$(USER_MODULES))

$(BUILD)/test-modules.txt: FORCE
	@mkdir -p $(@D)
	$(Q)$(call write_module_list,$(TEST_MODULES))

.PHONY: FORCE
FORCE:
