// SPDX-License-Identifier: GPL-2.0

//! The read and write functions of the permission tables, one per kind of
//! capability (upstream's `readfn`/`writefn`).
//!
//! The default pair merges `vconfig` and the device by the `virt` mask and
//! lets only `write` bits change; the others wrap it to trap what the
//! kernel must do itself (BAR sizing, COMMAND, power state, VPD, FLR, MRRS,
//! MSI enable).

use super::{
    perm::{
        Handler,
        Perm, //
    },
    phys_read,
    phys_write,
    regs::*,
    Effects,
    IntxAction,
    PhysConfig,
    PowerState,
    RwContext,
    VirtConfig, //
};
use core::sync::atomic::Ordering::{
    Relaxed, //
};

/// One piece of an access: `count` (1, 2 or 4) bytes at `pos`, `offset`
/// bytes into the capability that starts at `cap_start`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Access {
    pub(super) pos: usize,
    pub(super) count: usize,
    pub(super) offset: usize,
    pub(super) cap_start: usize,
}

/// `is_bar()`: the offset is in a BAR or the ROM BAR.
#[inline]
pub(super) fn is_bar(offset: usize) -> bool {
    (PCI_BASE_ADDRESS_0..PCI_BASE_ADDRESS_5 + 4).contains(&offset)
        || (PCI_ROM_ADDRESS..PCI_ROM_ADDRESS + 4).contains(&offset)
}

/// Whether the piece covers the MSI flags' first byte, in upstream's words
/// `offset <= PCI_MSI_FLAGS && offset + count >= PCI_MSI_FLAGS`.
fn touches_msi_flags(a: &Access) -> bool {
    a.offset <= PCI_MSI_FLAGS && a.offset + a.count >= PCI_MSI_FLAGS
}

impl VirtConfig {
    /// Dispatches a read to the handler's `readfn`.
    pub(super) fn read_fn<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        ctx: &RwContext,
        perm: &Perm,
        a: &Access,
    ) -> Result<u32, i32> {
        match perm.handler {
            Handler::Basic => self.basic_read(phys, perm, a),
            Handler::Msi => self.msi_read(phys, ctx, perm, a),
            Handler::Pm | Handler::Vpd | Handler::Exp | Handler::Af | Handler::Default => {
                self.default_read(phys, perm, a)
            }
            Handler::Direct | Handler::DirectRawWrite => self.direct_read(phys, a),
            Handler::Raw => phys_read(phys, a.pos, a.count),
            Handler::Virt => Ok(self.vread(a.pos, a.count)),
        }
    }

    /// Dispatches a write to the handler's `writefn` (the caller drops
    /// writes to handlers without one).
    pub(super) fn write_fn<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        ctx: &RwContext,
        perm: &Perm,
        a: &Access,
        val: u32,
    ) -> Result<Effects, i32> {
        match perm.handler {
            Handler::Basic => self.basic_write(phys, perm, a, val),
            Handler::Pm => self.pm_write(phys, perm, a, val),
            Handler::Vpd => self.vpd_write(phys, perm, a, val),
            Handler::Exp => self.exp_write(phys, perm, a, val),
            Handler::Af => self.af_write(phys, perm, a, val),
            Handler::Msi => self.msi_write(phys, ctx, perm, a, val),
            Handler::Default => self
                .default_write(phys, perm, a, val)
                .map(|()| Effects::NONE),
            Handler::Direct => Ok(Effects::NONE),
            Handler::DirectRawWrite | Handler::Raw => {
                phys_write(phys, a.pos, a.count, val).map(|()| Effects::NONE)
            }
            Handler::Virt => {
                self.vwrite(a.pos, a.count, val);
                Ok(Effects::NONE)
            }
        }
    }

    /// `vfio_default_config_read()`: virtualized bits from `vconfig`, the
    /// others from the device (not read at all if every bit is virtual).
    ///
    /// Each piece width gets its own copy of the body, with the width a
    /// constant there: the `vconfig` and mask loads and the device read
    /// become one access each instead of a dispatch on the width apiece.
    /// Inlined into each handler that reads through it (the header's
    /// among them), which saves a call per config read.
    #[inline(always)]
    fn default_read<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        perm: &Perm,
        a: &Access,
    ) -> Result<u32, i32> {
        match a.count {
            4 => self.default_read_n(phys, perm, a, 4),
            2 => self.default_read_n(phys, perm, a, 2),
            n => self.default_read_n(phys, perm, a, n),
        }
    }

    /// [`Self::default_read`] of `count` bytes (`a.count`).
    #[inline(always)]
    fn default_read_n<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        perm: &Perm,
        a: &Access,
        count: usize,
    ) -> Result<u32, i32> {
        let val = self.vread(a.pos, count);
        let virt = perm.virt(a.offset, count);
        if virt == super::ones(count) {
            return Ok(val);
        }
        let phys_val = phys_read(phys, a.pos, count)?;
        Ok((phys_val & !virt) | (val & virt))
    }

    /// `vfio_default_config_write()`: writable virtual bits go to
    /// `vconfig`, writable real bits to the device (read-modify-write).
    ///
    /// One copy of the body per piece width, as [`Self::default_read`].
    fn default_write<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        perm: &Perm,
        a: &Access,
        val: u32,
    ) -> Result<(), i32> {
        match a.count {
            4 => self.default_write_n(phys, perm, a, val, 4),
            2 => self.default_write_n(phys, perm, a, val, 2),
            n => self.default_write_n(phys, perm, a, val, n),
        }
    }

    /// [`Self::default_write`] of `count` bytes (`a.count`).
    #[inline(always)]
    fn default_write_n<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        perm: &Perm,
        a: &Access,
        val: u32,
        count: usize,
    ) -> Result<(), i32> {
        let write = perm.write(a.offset, count);
        if write == 0 {
            return Ok(());
        }
        let virt = perm.virt(a.offset, count);

        if write & virt != 0 {
            let v = (self.vread(a.pos, count) & !(write & virt)) | (val & write & virt);
            self.vwrite(a.pos, count, v);
        }

        if write & !virt != 0 {
            let p = phys_read(phys, a.pos, count)?;
            let p = (p & !(write & !virt)) | (val & write & !virt);
            phys_write(phys, a.pos, count, p)?;
        }
        Ok(())
    }

    /// `vfio_direct_config_read()`: the device's bytes, except the header
    /// (ID and next pointer) of the capability, which `vconfig` holds.
    fn direct_read<P: PhysConfig + ?Sized>(&self, phys: &mut P, a: &Access) -> Result<u32, i32> {
        let mut val = phys_read(phys, a.pos, a.count)?;
        let replace = if a.pos >= PCI_CFG_SPACE_SIZE {
            // The whole extended capability header.
            if a.offset < 4 {
                a.count
            } else {
                0
            }
        } else if a.pos >= PCI_STD_HEADER_SIZEOF {
            if a.offset == PCI_CAP_LIST_ID && a.count > 1 {
                a.count.min(PCI_CAP_FLAGS)
            } else if a.offset == PCI_CAP_LIST_NEXT {
                1
            } else {
                0
            }
        } else {
            0
        };
        if replace != 0 {
            let mask = super::ones(replace);
            val = (val & !mask) | (self.vread(a.pos, replace) & mask);
        }
        Ok(val)
    }

    /// `vfio_basic_config_read()`: the header, with BARs sized first and
    /// the virtual memory enable of devices without one.
    #[inline]
    fn basic_read<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        perm: &Perm,
        a: &Access,
    ) -> Result<u32, i32> {
        if is_bar(a.offset) {
            self.bar_fixup();
        }
        let mut val = self.default_read(phys, perm, a)?;
        if a.offset == PCI_COMMAND && self.facts.no_command_memory {
            val |= u32::from(self.vword(PCI_COMMAND) & PCI_COMMAND_MEMORY);
        }
        Ok(val)
    }

    /// `vfio_basic_config_write()`: the header.  A write of COMMAND first
    /// restores the BARs if the device was reset behind our back (the
    /// caller holds `memory_lock`), then remembers the memory and I/O
    /// enables; a write of the INTx disable bit masks or unmasks INTx.
    fn basic_write<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        perm: &Perm,
        a: &Access,
        val: u32,
    ) -> Result<Effects, i32> {
        let mut fx = Effects::NONE;
        // CAST: COMMAND is the low 16 bits of what is written.
        let new_cmd = val as u16;

        if a.offset == PCI_COMMAND {
            // CAST: a two-byte read.
            let phys_cmd = phys_read(phys, PCI_COMMAND, 2)? as u16;
            let virt_cmd = self.vword(PCI_COMMAND);
            let on = |cmd: u16, bit: u16| cmd & bit != 0;

            // Enabling what we think is enabled but the device shows
            // disabled: it went through a reset and needs its BARs back
            // before it decodes them (SR-IOV devices do this).
            if (on(new_cmd, PCI_COMMAND_MEMORY)
                && on(virt_cmd, PCI_COMMAND_MEMORY)
                && !on(phys_cmd, PCI_COMMAND_MEMORY)
                && !self.facts.no_command_memory)
                || (on(new_cmd, PCI_COMMAND_IO)
                    && on(virt_cmd, PCI_COMMAND_IO)
                    && !on(phys_cmd, PCI_COMMAND_IO))
                || self.need_bar_restore(phys)
            {
                fx.bars_restored = self.bar_restore(phys);
            }
        }

        self.default_write(phys, perm, a, val)?;

        // Remember the enables for the test above next time.
        if a.offset == PCI_COMMAND {
            let mask = PCI_COMMAND_MEMORY | PCI_COMMAND_IO;
            let cmd = (self.vword(PCI_COMMAND) & !mask) | (new_cmd & mask);
            self.set_vword(PCI_COMMAND, cmd);
        }

        // Emulate INTx disable.
        if (PCI_COMMAND..=PCI_COMMAND + 1).contains(&a.offset) {
            let virt_intx_disable = self.vword(PCI_COMMAND) & PCI_COMMAND_INTX_DISABLE != 0;
            // The swap decides the effect, once per change of the bit;
            // writers racing on it may apply their effects in either
            // order, as upstream's (its `virq_disabled` is a plain bool).
            let was = self.virq_disabled.swap(virt_intx_disable, Relaxed);
            if virt_intx_disable && !was {
                fx.intx = Some(IntxAction::Mask);
            } else if !virt_intx_disable && was {
                fx.intx = Some(IntxAction::Unmask);
            }
        }

        if is_bar(a.offset) {
            self.bardirty.store(true, Relaxed);
        }
        Ok(fx)
    }

    /// `vfio_pm_config_write()`: a write of PMCSR asks for a power state,
    /// which the kernel sets (the state bits are not writable).
    fn pm_write<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        perm: &Perm,
        a: &Access,
        val: u32,
    ) -> Result<Effects, i32> {
        self.default_write(phys, perm, a, val)?;
        let mut fx = Effects::NONE;
        if a.offset == PCI_PM_CTRL {
            fx.power_state = Some(match val & u32::from(PCI_PM_CTRL_STATE_MASK) {
                0 => PowerState::D0,
                1 => PowerState::D1,
                2 => PowerState::D2,
                _ => PowerState::D3Hot,
            });
        }
        Ok(fx)
    }

    /// `vfio_vpd_config_write()`: a write of the address register's upper
    /// byte starts a VPD read or write through the kernel's VPD access; the
    /// flag toggles when it completes (never on error: the user times out).
    fn vpd_write<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        perm: &Perm,
        a: &Access,
        val: u32,
    ) -> Result<Effects, i32> {
        self.default_write(phys, perm, a, val)?;
        if a.offset > PCI_VPD_ADDR + 1 || a.offset + a.count <= PCI_VPD_ADDR + 1 {
            return Ok(Effects::NONE);
        }

        let paddr = a.cap_start + PCI_VPD_ADDR;
        let pdata = a.cap_start + PCI_VPD_DATA;
        let addr = self.vword(paddr);
        if addr & PCI_VPD_ADDR_F != 0 {
            let data = self.vread(pdata, 4).to_le_bytes();
            if phys.write_vpd(addr & !PCI_VPD_ADDR_F, data).is_err() {
                return Ok(Effects::NONE);
            }
        } else {
            let Ok(data) = phys.read_vpd(addr) else {
                return Ok(Effects::NONE);
            };
            self.vwrite(pdata, 4, u32::from_le_bytes(data));
        }
        self.set_vword(paddr, addr ^ PCI_VPD_ADDR_F);
        Ok(Effects::NONE)
    }

    /// `vfio_exp_config_write()`: Initiate FLR resets the function if the
    /// device can FLR and always reads back zero; a new MRRS is applied by
    /// the kernel, no lower than the device's MPS.
    fn exp_write<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        perm: &Perm,
        a: &Access,
        val: u32,
    ) -> Result<Effects, i32> {
        let ctrl_pos = a.cap_start + PCI_EXP_DEVCTL;
        let readrq = self.vword(ctrl_pos) & PCI_EXP_DEVCTL_READRQ;

        self.default_write(phys, perm, a, val)?;

        let mut fx = Effects::NONE;
        let mut ctrl = self.vword(ctrl_pos);
        if ctrl & PCI_EXP_DEVCTL_BCR_FLR != 0 {
            ctrl &= !PCI_EXP_DEVCTL_BCR_FLR;
            self.set_vword(ctrl_pos, ctrl);
            let cap = phys_read(phys, a.cap_start + PCI_EXP_DEVCAP, 4);
            fx.reset_function = matches!(cap, Ok(cap) if cap & PCI_EXP_DEVCAP_FLR != 0);
        }

        if readrq != ctrl & PCI_EXP_DEVCTL_READRQ {
            fx.readrq = Some(128 << ((ctrl & PCI_EXP_DEVCTL_READRQ) >> 12));
        }
        Ok(fx)
    }

    /// `vfio_af_config_write()`: Initiate FLR resets the function if the
    /// device can FLR and report transactions pending; reads back zero.
    fn af_write<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        perm: &Perm,
        a: &Access,
        val: u32,
    ) -> Result<Effects, i32> {
        self.default_write(phys, perm, a, val)?;

        let mut fx = Effects::NONE;
        let ctrl_pos = a.cap_start + PCI_AF_CTRL;
        let ctrl = self.vbyte(ctrl_pos);
        if ctrl & PCI_AF_CTRL_FLR != 0 {
            self.vwrite(ctrl_pos, 1, (ctrl & !PCI_AF_CTRL_FLR).into());
            let cap = phys_read(phys, a.cap_start + PCI_AF_CAP, 1);
            let need = u32::from(PCI_AF_CAP_FLR | PCI_AF_CAP_TP);
            fx.reset_function = matches!(cap, Ok(cap) if cap & need == need);
        }
        Ok(fx)
    }

    /// `vfio_msi_config_read()`: default read, after refreshing Multiple
    /// Message Capable from `msi_qmax`.
    ///
    /// Upstream refreshes the word at the capability's start, not at
    /// `PCI_MSI_FLAGS`: bits 1-3 of the (not virtualized) ID byte in
    /// `vconfig`.  Kept, so that `vconfig` matches upstream byte for byte;
    /// the user never sees it.
    fn msi_read<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        ctx: &RwContext,
        perm: &Perm,
        a: &Access,
    ) -> Result<u32, i32> {
        if touches_msi_flags(a) {
            let flags =
                (self.vword(a.cap_start) & !PCI_MSI_FLAGS_QMASK) | (u16::from(ctx.msi_qmax) << 1);
            self.set_vword(a.cap_start, flags);
        }
        self.default_read(phys, perm, a)
    }

    /// `vfio_msi_config_write()`: the flags are virtual; the enable bit
    /// stays set only while MSI is enabled through `VFIO_DEVICE_SET_IRQS`,
    /// Multiple Message Enable is capped by `msi_qmax`, and the result is
    /// written to the device too.
    fn msi_write<P: PhysConfig + ?Sized>(
        &self,
        phys: &mut P,
        ctx: &RwContext,
        perm: &Perm,
        a: &Access,
        val: u32,
    ) -> Result<Effects, i32> {
        self.default_write(phys, perm, a, val)?;

        if touches_msi_flags(a) {
            let pflags = a.cap_start + PCI_MSI_FLAGS;
            let mut flags = self.vword(pflags);
            if !ctx.msi_enabled() {
                flags &= !PCI_MSI_FLAGS_ENABLE;
            }
            if (flags & PCI_MSI_FLAGS_QSIZE) >> 4 > u16::from(ctx.msi_qmax) {
                flags = (flags & !PCI_MSI_FLAGS_QSIZE) | (u16::from(ctx.msi_qmax) << 4);
            }
            self.set_vword(pflags, flags);
            phys_write(phys, pflags, 2, flags.into())?;
        }
        Ok(Effects::NONE)
    }
}
