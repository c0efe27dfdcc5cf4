// SPDX-License-Identifier: GPL-2.0

//! Permission bits: which bits of each capability the user reads from the
//! device or from `vconfig`, and which bits the user may write.
//!
//! Mirrors upstream's `struct perm_bits` and the `init_pci_*_perm()`
//! functions: per byte of a capability, a `virt` mask (bits read from and
//! written to `vconfig`, never the device) and a `write` mask (bits the user
//! may change; the others keep their value).  Upstream allocates the tables
//! at module init; here they are `static`s built at compile time.  The
//! read/write functions are named by [`Handler`].

use super::{
    regs::*,
    PCI_CAP_ID_BASIC, //
};

/// `ALL_VIRT` / `ALL_WRITE` of a dword.
const ALL: u32 = 0xffff_ffff;
/// `NO_VIRT` / `NO_WRITE`.
const NONE: u32 = 0;

/// Which of upstream's read and write functions serve a capability.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Handler {
    /// `vfio_basic_config_read`/`_write`: the standard header.
    Basic,
    /// Default read, `vfio_pm_config_write`.
    Pm,
    /// Default read, `vfio_vpd_config_write`.
    Vpd,
    /// Default read, `vfio_exp_config_write`.
    Exp,
    /// Default read, `vfio_af_config_write`.
    Af,
    /// `vfio_msi_config_read`/`_write`.
    Msi,
    /// `vfio_default_config_read`/`_write` (PCI-X, AER, Power Budgeting).
    Default,
    /// `vfio_direct_config_read`, writes dropped: every other capability.
    Direct,
    /// `vfio_direct_config_read`, `vfio_raw_config_write`: vendor-specific.
    DirectRawWrite,
    /// `vfio_raw_config_read`/`_write`: bytes outside any capability.
    Raw,
    /// `vfio_virt_config_read`/`_write`: bytes a quirk fully virtualized.
    Virt,
}

impl Handler {
    /// Whether upstream has a `writefn`; without one writes are dropped.
    #[inline]
    pub(super) fn writes(self) -> bool {
        self != Handler::Direct
    }
}

/// The permission bits of one capability: its handler and its masks.
#[derive(Debug, Clone, Copy)]
pub(super) struct Perm {
    /// The read/write functions.
    pub(super) handler: Handler,
    /// Per-byte virtualized bits, little-endian like config space.
    virt: &'static [u8],
    /// Per-byte writable bits.
    write: &'static [u8],
}

/// Loads `count` bytes of `table` at `offset` as a little-endian value;
/// bytes past the table read as zero (read-only, not virtualized), the
/// state upstream gives every byte it did not set.
#[inline]
fn load(table: &[u8], offset: usize, count: usize) -> u32 {
    // The pieces of an access are 1, 2 or 4 bytes inside the table: one
    // bounds check, then the bytes.
    match offset
        .checked_add(count)
        .and_then(|end| table.get(offset..end))
    {
        Some(&[b]) => return b.into(),
        Some(&[b0, b1]) => return u16::from_le_bytes([b0, b1]).into(),
        Some(&[b0, b1, b2, b3]) => return u32::from_le_bytes([b0, b1, b2, b3]),
        _ => {}
    }
    let mut val = 0u32;
    for i in (0..count.min(4)).rev() {
        let byte = offset
            .checked_add(i)
            .and_then(|o| table.get(o))
            .copied()
            .unwrap_or(0);
        val = (val << 8) | u32::from(byte);
    }
    val
}

impl Perm {
    const fn new(handler: Handler, virt: &'static [u8], write: &'static [u8]) -> Self {
        Self {
            handler,
            virt,
            write,
        }
    }

    /// The `virt` mask of `count` bytes at `offset` into the capability.
    #[inline]
    pub(super) fn virt(&self, offset: usize, count: usize) -> u32 {
        load(self.virt, offset, count)
    }

    /// The `write` mask of `count` bytes at `offset` into the capability.
    #[inline]
    pub(super) fn write(&self, offset: usize, count: usize) -> u32 {
        load(self.write, offset, count)
    }
}

/// Permission masks of a capability of `N` bytes, built at compile time
/// with upstream's `p_setb`/`p_setw`/`p_setd`.
struct Masks<const N: usize> {
    virt: [u8; N],
    write: [u8; N],
}

impl<const N: usize> Masks<N> {
    /// The zero state: all readable, none writable, none virtualized.
    const fn new() -> Self {
        Self {
            virt: [0; N],
            write: [0; N],
        }
    }

    const fn set(mut self, off: usize, len: usize, virt: u32, write: u32) -> Self {
        let v = virt.to_le_bytes();
        let w = write.to_le_bytes();
        let mut i = 0;
        while i < len {
            self.virt[off + i] = v[i];
            self.write[off + i] = w[i];
            i += 1;
        }
        self
    }

    const fn setb(self, off: usize, virt: u32, write: u32) -> Self {
        self.set(off, 1, virt, write)
    }

    const fn setw(self, off: usize, virt: u32, write: u32) -> Self {
        self.set(off, 2, virt, write)
    }

    const fn setd(self, off: usize, virt: u32, write: u32) -> Self {
        self.set(off, 4, virt, write)
    }

    const fn perm(&'static self, handler: Handler) -> Perm {
        Perm::new(handler, &self.virt, &self.write)
    }
}

/// Upstream rounds every table up to a dword.
const fn dword_round(len: usize) -> usize {
    (len + 3) & !3
}

/// `init_pci_cap_basic_perm()`.
static BASIC: Masks<PCI_STD_HEADER_SIZEOF> = Masks::new()
    // Virtualized for SR-IOV functions, which just have FFFF.
    .setw(PCI_VENDOR_ID, ALL, NONE)
    .setw(PCI_DEVICE_ID, ALL, NONE)
    // INTx disable is used internally for interrupt control.
    .setw(PCI_COMMAND, PCI_COMMAND_INTX_DISABLE as u32, ALL)
    // The capability list may skip capabilities.
    .setw(PCI_STATUS, PCI_STATUS_CAP_LIST as u32, NONE)
    .setb(PCI_CACHE_LINE_SIZE, NONE, ALL)
    .setb(PCI_LATENCY_TIMER, NONE, ALL)
    .setb(PCI_BIST, NONE, ALL)
    // The real BARs are never touched.
    .setd(PCI_BASE_ADDRESS_0, ALL, ALL)
    .setd(PCI_BASE_ADDRESS_0 + 4, ALL, ALL)
    .setd(PCI_BASE_ADDRESS_0 + 8, ALL, ALL)
    .setd(PCI_BASE_ADDRESS_0 + 12, ALL, ALL)
    .setd(PCI_BASE_ADDRESS_0 + 16, ALL, ALL)
    .setd(PCI_BASE_ADDRESS_5, ALL, ALL)
    .setd(PCI_ROM_ADDRESS, ALL, ALL)
    .setb(PCI_CAPABILITY_LIST, ALL, NONE)
    .setb(PCI_INTERRUPT_LINE, ALL, ALL)
    // Virtualized to allow hiding INTx.
    .setb(PCI_INTERRUPT_PIN, ALL, NONE);

/// `init_pci_cap_pm_perm()`.
static PM: Masks<PCI_PM_SIZEOF> = Masks::new()
    .setb(PCI_CAP_LIST_NEXT, ALL, NONE)
    // Guests can't process PME: PME_Support reads as zero.
    .setw(PCI_PM_PMC, PCI_PM_CAP_PME_MASK as u32, NONE)
    // The power state is changed by us, not by the write.
    .setd(
        PCI_PM_CTRL,
        (PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS) as u32,
        !((PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS | PCI_PM_CTRL_STATE_MASK) as u32),
    );

/// `init_pci_cap_vpd_perm()`: both registers go through `pci_{read,write}_vpd`.
static VPD: Masks<PCI_CAP_VPD_SIZEOF> = Masks::new()
    .setb(PCI_CAP_LIST_NEXT, ALL, NONE)
    .setw(PCI_VPD_ADDR, ALL, ALL)
    .setd(PCI_VPD_DATA, ALL, ALL);

/// `init_pci_cap_pcix_perm()`.
static PCIX: Masks<PCI_CAP_PCIX_SIZEOF_V2> = Masks::new()
    .setb(PCI_CAP_LIST_NEXT, ALL, NONE)
    .setw(PCI_X_CMD, NONE, ALL)
    .setd(PCI_X_ECC_CSR, NONE, ALL);

/// `init_pci_cap_exp_perm()`: FLR and MRRS are trapped, MPS virtualized,
/// phantom functions and ARI forwarding not writable.
static EXP: Masks<PCI_CAP_EXP_ENDPOINT_SIZEOF_V2> = Masks::new()
    .setb(PCI_CAP_LIST_NEXT, ALL, NONE)
    .setw(
        PCI_EXP_DEVCTL,
        (PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_PAYLOAD | PCI_EXP_DEVCTL_READRQ) as u32,
        (!PCI_EXP_DEVCTL_PHANTOM) as u32,
    )
    .setw(PCI_EXP_DEVCTL2, NONE, (!PCI_EXP_DEVCTL2_ARI) as u32);

/// `init_pci_cap_af_perm()`.
static AF: Masks<{ dword_round(PCI_CAP_AF_SIZEOF) }> = Masks::new()
    .setb(PCI_CAP_LIST_NEXT, ALL, NONE)
    .setb(PCI_AF_CTRL, PCI_AF_CTRL_FLR as u32, PCI_AF_CTRL_FLR as u32);

/// `init_pci_ext_cap_err_perm()`.
static ERR: Masks<PCI_ERR_ROOT_COMMAND> = Masks::new()
    // The header holds the next pointer.
    .setd(0, ALL, NONE)
    .setd(PCI_ERR_UNCOR_STATUS, NONE, PCI_ERR_UNC_USER_MASK)
    .setd(PCI_ERR_UNCOR_MASK, NONE, PCI_ERR_UNC_USER_MASK)
    .setd(PCI_ERR_UNCOR_SEVER, NONE, PCI_ERR_UNC_USER_MASK)
    .setd(PCI_ERR_COR_STATUS, NONE, PCI_ERR_COR_USER_MASK)
    .setd(PCI_ERR_COR_MASK, NONE, PCI_ERR_COR_USER_MASK)
    .setd(
        PCI_ERR_CAP,
        NONE,
        PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE,
    );

/// `init_pci_ext_cap_pwr_perm()`: selecting data is fine, data is read-only.
static PWR: Masks<PCI_EXT_CAP_PWR_SIZEOF> =
    Masks::new()
        .setd(0, ALL, NONE)
        .setb(PCI_PWR_DATA, NONE, ALL);

/// `init_pci_cap_msi_perm()` of a 32-bit MSI capability without masking.
static MSI_32: Masks<{ dword_round(10) }> = msi_common().setw(PCI_MSI_DATA_32, ALL, ALL);
/// Same with per-vector masking.
static MSI_32_MASK: Masks<{ dword_round(20) }> = msi_common()
    .setw(PCI_MSI_DATA_32, ALL, ALL)
    .setd(PCI_MSI_MASK_32, NONE, ALL)
    .setd(PCI_MSI_PENDING_32, NONE, ALL);
/// Same for a 64-bit MSI capability without masking.
static MSI_64: Masks<{ dword_round(14) }> =
    msi_common()
        .setd(PCI_MSI_ADDRESS_HI, ALL, ALL)
        .setw(PCI_MSI_DATA_64, ALL, ALL);
/// Same with per-vector masking.
static MSI_64_MASK: Masks<{ dword_round(24) }> = msi_common()
    .setd(PCI_MSI_ADDRESS_HI, ALL, ALL)
    .setw(PCI_MSI_DATA_64, ALL, ALL)
    .setd(PCI_MSI_MASK_64, NONE, ALL)
    .setd(PCI_MSI_PENDING_64, NONE, ALL);

/// The part of every MSI table that does not depend on the flags: the
/// upper byte of the control register is reserved, only the lower is set.
const fn msi_common<const N: usize>() -> Masks<N> {
    Masks::new()
        .setb(PCI_CAP_LIST_NEXT, ALL, NONE)
        .setb(PCI_MSI_FLAGS, ALL, ALL)
        .setd(PCI_MSI_ADDRESS_LO, ALL, ALL)
}

/// `unassigned_perms`: raw access to bytes outside any capability (some
/// devices hide registers in the gaps, e.g. be2net).
pub(super) static UNASSIGNED: Perm = Perm::new(Handler::Raw, &[], &[]);
/// `virt_perms`: fully virtualized bytes.
pub(super) static VIRT: Perm = Perm::new(Handler::Virt, &[], &[]);
/// `direct_ro_perms`: read-only with the header virtualized.
pub(super) static DIRECT_RO: Perm = Perm::new(Handler::Direct, &[], &[]);
/// Vendor-specific capabilities: direct read, raw write.
static DIRECT_RAW_WRITE: Perm = Perm::new(Handler::DirectRawWrite, &[], &[]);

/// The tables with their handlers, as `static`s: the lookups below hand
/// out references, so that no access copies a `Perm`.
static BASIC_PERM: Perm = BASIC.perm(Handler::Basic);
static PM_PERM: Perm = PM.perm(Handler::Pm);
static VPD_PERM: Perm = VPD.perm(Handler::Vpd);
static PCIX_PERM: Perm = PCIX.perm(Handler::Default);
static EXP_PERM: Perm = EXP.perm(Handler::Exp);
static AF_PERM: Perm = AF.perm(Handler::Af);
static ERR_PERM: Perm = ERR.perm(Handler::Default);
static PWR_PERM: Perm = PWR.perm(Handler::Default);
static MSI_32_PERM: Perm = MSI_32.perm(Handler::Msi);
static MSI_32_MASK_PERM: Perm = MSI_32_MASK.perm(Handler::Msi);
static MSI_64_PERM: Perm = MSI_64.perm(Handler::Msi);
static MSI_64_MASK_PERM: Perm = MSI_64_MASK.perm(Handler::Msi);

/// `cap_perms[cap]` of a standard capability (MSI excepted: see
/// [`msi_perm`]); IDs without a table read directly and drop writes.
#[inline]
pub(super) fn cap_perm(cap: u8) -> &'static Perm {
    match cap {
        PCI_CAP_ID_BASIC => &BASIC_PERM,
        PCI_CAP_ID_PM => &PM_PERM,
        PCI_CAP_ID_VPD => &VPD_PERM,
        PCI_CAP_ID_PCIX => &PCIX_PERM,
        PCI_CAP_ID_VNDR => &DIRECT_RAW_WRITE,
        PCI_CAP_ID_EXP => &EXP_PERM,
        PCI_CAP_ID_AF => &AF_PERM,
        _ => &DIRECT_RO,
    }
}

/// `ecap_perms[ecap]` of an extended capability (`ecap` is the byte that
/// `pci_config_map` holds).
pub(super) fn ecap_perm(ecap: u8) -> &'static Perm {
    match u16::from(ecap) {
        PCI_EXT_CAP_ID_ERR => &ERR_PERM,
        PCI_EXT_CAP_ID_PWR => &PWR_PERM,
        PCI_EXT_CAP_ID_VNDR | PCI_EXT_CAP_ID_DVSEC => &DIRECT_RAW_WRITE,
        _ => &DIRECT_RO,
    }
}

/// The device's `msi_perm`, chosen by the MSI flags of its first MSI
/// capability.
pub(super) fn msi_perm(flags: u16) -> &'static Perm {
    let is_64 = flags & PCI_MSI_FLAGS_64BIT != 0;
    let mask = flags & PCI_MSI_FLAGS_MASKBIT != 0;
    match (is_64, mask) {
        (false, false) => &MSI_32_PERM,
        (false, true) => &MSI_32_MASK_PERM,
        (true, false) => &MSI_64_PERM,
        (true, true) => &MSI_64_MASK_PERM,
    }
}
