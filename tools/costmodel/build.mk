# tools/costmodel/: the cost-model plugin for QEMU (ferrycost.c), built for
# the host against QEMU's plugin header, which tools/costmodel/fetch-header.sh
# takes from the installed QEMU's Debian source package into
# ~/.cache/ferry-qemu once (no package ships it; it is never committed).
# `sh scripts/deps.sh cost` installs what the fetch needs.
COST_PLUGIN := $(BUILD)/costmodel/ferrycost.so
COST_CFLAGS := -shared -fPIC -std=c11 -O2 -g -D_DEFAULT_SOURCE $(WARN)

$(COST_PLUGIN): tools/costmodel/ferrycost.c tools/costmodel/assoc.h \
		tools/costmodel/fetch-header.sh | deps
	$(call say,PLUGIN,$@)
	@mkdir -p $(@D)
	$(Q)sh $(DEPS) cost
	$(Q)hdr=$$(sh tools/costmodel/fetch-header.sh) && \
		$(CC) $(COST_CFLAGS) -I"$$(dirname "$$hdr")" $< -o $@

.PHONY: cost-plugin
cost-plugin: $(COST_PLUGIN)
