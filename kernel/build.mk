# kernel/: generic code, then kernel/arch/x86_64.  The image is linked from
# these objects plus lib/'s pure files built with kernel flags.
KERNEL_SRCS := $(wildcard kernel/*.c kernel/mm/*.c kernel/proc/*.c kernel/ipc/*.c kernel/debug/*.c \
	kernel/grant/*.c kernel/test/*.c kernel/acpi/*.c kernel/iommu/*.c) \
	$(wildcard kernel/arch/x86_64/*.c)
KERNEL_ASM  := $(wildcard kernel/arch/x86_64/*.S)
KERNEL_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(KERNEL_SRCS)) \
	$(patsubst %.S,$(BUILD)/%.o,$(KERNEL_ASM)) \
	$(patsubst lib/%.c,$(BUILD)/kernel/lib/%.o,$(LIB_PURE))
KERNEL_LDS  := kernel/arch/x86_64/kernel.ld

$(BUILD)/kernel/%.o: kernel/%.c | deps
	$(call say,CC,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(KERNEL_CFLAGS) -MMD -MP -MJ $@.json -c $< -o $@

$(BUILD)/kernel/%.o: kernel/%.S | deps
	$(call say,AS,$<)
	@mkdir -p $(@D)
	$(Q)$(CC) $(KERNEL_CFLAGS) -MMD -MP -MJ $@.json -c $< -o $@

$(BUILD)/kernel/lib/%.o: lib/%.c | deps
	$(call say,CC,'$< [kernel]')
	@mkdir -p $(@D)
	$(Q)$(CC) $(KERNEL_CFLAGS) -MMD -MP -MJ $@.json -c $< -o $@

$(BUILD)/ferry.elf: $(KERNEL_OBJS) $(KERNEL_LDS)
	$(call say,LD,$@)
	$(Q)$(LD) -nostdlib -z max-page-size=4096 -T $(KERNEL_LDS) -o $@ $(KERNEL_OBJS)

# Backtrace names: GRUB loads this file as the "symbols" module.
$(BUILD)/ferry.sym: $(BUILD)/ferry.elf
	$(call say,NM,$@)
	$(Q)$(NM) -n --defined-only $< | grep -i ' t ' > $@
