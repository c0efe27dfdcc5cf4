// SPDX-License-Identifier: GPL-2.0

//! The registers of PCI config space that the virtualization reads, names
//! and values of `include/uapi/linux/pci_regs.h` (Linux 7.3).
//!
//! Only what [`super`] needs is declared; each name is the header's, so a
//! reader can grep one against the other.

/// Size of conventional config space.
pub const PCI_CFG_SPACE_SIZE: usize = 256;
/// Size of PCIe extended config space.
pub const PCI_CFG_SPACE_EXP_SIZE: usize = 4096;
/// Size of the standard type 0 header.
pub const PCI_STD_HEADER_SIZEOF: usize = 64;
/// Number of standard BARs.
pub const PCI_STD_NUM_BARS: usize = 6;

/// Vendor ID (16 bits).
pub const PCI_VENDOR_ID: usize = 0x00;
/// Device ID (16 bits).
pub const PCI_DEVICE_ID: usize = 0x02;
/// Command register (16 bits).
pub const PCI_COMMAND: usize = 0x04;
/// Enable response in I/O space.
pub const PCI_COMMAND_IO: u16 = 0x1;
/// Enable response in memory space.
pub const PCI_COMMAND_MEMORY: u16 = 0x2;
/// INTx emulation disable.
pub const PCI_COMMAND_INTX_DISABLE: u16 = 0x400;
/// Status register (16 bits).
pub const PCI_STATUS: usize = 0x06;
/// Support capability list.
pub const PCI_STATUS_CAP_LIST: u16 = 0x10;
/// Cache line size (8 bits).
pub const PCI_CACHE_LINE_SIZE: usize = 0x0c;
/// Latency timer (8 bits).
pub const PCI_LATENCY_TIMER: usize = 0x0d;
/// Built-in self test (8 bits).
pub const PCI_BIST: usize = 0x0f;
/// First BAR.
pub const PCI_BASE_ADDRESS_0: usize = 0x10;
/// Last BAR.
pub const PCI_BASE_ADDRESS_5: usize = 0x24;
/// BAR is in I/O space.
pub const PCI_BASE_ADDRESS_SPACE_IO: u32 = 0x01;
/// BAR is in memory space.
pub const PCI_BASE_ADDRESS_SPACE_MEMORY: u32 = 0x00;
/// 64-bit memory BAR.
pub const PCI_BASE_ADDRESS_MEM_TYPE_64: u32 = 0x04;
/// Prefetchable memory BAR.
pub const PCI_BASE_ADDRESS_MEM_PREFETCH: u32 = 0x08;
/// Expansion ROM BAR.
pub const PCI_ROM_ADDRESS: usize = 0x30;
/// Expansion ROM decode enable.
pub const PCI_ROM_ADDRESS_ENABLE: u32 = 0x01;
/// Offset of the first capability.
pub const PCI_CAPABILITY_LIST: usize = 0x34;
/// Interrupt line (8 bits).
pub const PCI_INTERRUPT_LINE: usize = 0x3c;
/// Interrupt pin (8 bits).
pub const PCI_INTERRUPT_PIN: usize = 0x3d;

/// Capability ID.
pub const PCI_CAP_LIST_ID: usize = 0;
/// Next capability pointer.
pub const PCI_CAP_LIST_NEXT: usize = 1;
/// Capability-defined flags (16 bits).
pub const PCI_CAP_FLAGS: usize = 2;
/// Size of a capability header.
pub const PCI_CAP_SIZEOF: usize = 4;

/// Power Management.
pub const PCI_CAP_ID_PM: u8 = 0x01;
/// Accelerated Graphics Port.
pub const PCI_CAP_ID_AGP: u8 = 0x02;
/// Vital Product Data.
pub const PCI_CAP_ID_VPD: u8 = 0x03;
/// Message Signalled Interrupts.
pub const PCI_CAP_ID_MSI: u8 = 0x05;
/// PCI-X.
pub const PCI_CAP_ID_PCIX: u8 = 0x07;
/// HyperTransport.
pub const PCI_CAP_ID_HT: u8 = 0x08;
/// Vendor-specific.
pub const PCI_CAP_ID_VNDR: u8 = 0x09;
/// PCI Express.
pub const PCI_CAP_ID_EXP: u8 = 0x10;
/// MSI-X.
pub const PCI_CAP_ID_MSIX: u8 = 0x11;
/// SATA Data/Index configuration.
pub const PCI_CAP_ID_SATA: u8 = 0x12;
/// PCI Advanced Features.
pub const PCI_CAP_ID_AF: u8 = 0x13;
/// Enhanced Allocation, the highest ID the kernel knows.
pub const PCI_CAP_ID_MAX: u8 = 0x14;

/// Power Management capabilities (16 bits).
pub const PCI_PM_PMC: usize = 2;
/// Mask of all supported PME states.
pub const PCI_PM_CAP_PME_MASK: u16 = 0xf800;
/// Power Management control and status (16 bits).
pub const PCI_PM_CTRL: usize = 4;
/// Current power state.
pub const PCI_PM_CTRL_STATE_MASK: u16 = 0x0003;
/// PME pin enable.
pub const PCI_PM_CTRL_PME_ENABLE: u16 = 0x0100;
/// PME pin status.
pub const PCI_PM_CTRL_PME_STATUS: u16 = 0x8000;
/// Length of the PM capability.
pub const PCI_PM_SIZEOF: usize = 8;
/// Length of the AGP capability.
pub const PCI_AGP_SIZEOF: usize = 12;

/// VPD address (15 bits and the flag).
pub const PCI_VPD_ADDR: usize = 2;
/// VPD flag: write 0 to read, 1 to write; toggles on completion.
pub const PCI_VPD_ADDR_F: u16 = 0x8000;
/// VPD data (32 bits).
pub const PCI_VPD_DATA: usize = 4;
/// Length of the VPD capability.
pub const PCI_CAP_VPD_SIZEOF: usize = 8;

/// MSI message control (16 bits).
pub const PCI_MSI_FLAGS: usize = 0x02;
/// MSI enable.
pub const PCI_MSI_FLAGS_ENABLE: u16 = 0x0001;
/// Multiple Message Capable.
pub const PCI_MSI_FLAGS_QMASK: u16 = 0x000e;
/// Multiple Message Enable.
pub const PCI_MSI_FLAGS_QSIZE: u16 = 0x0070;
/// 64-bit addresses.
pub const PCI_MSI_FLAGS_64BIT: u16 = 0x0080;
/// Per-vector masking.
pub const PCI_MSI_FLAGS_MASKBIT: u16 = 0x0100;
/// Message address, low 32 bits.
pub const PCI_MSI_ADDRESS_LO: usize = 0x04;
/// Message address, high 32 bits (64-bit capable devices).
pub const PCI_MSI_ADDRESS_HI: usize = 0x08;
/// Message data of a 32-bit device.
pub const PCI_MSI_DATA_32: usize = 0x08;
/// Mask bits of a 32-bit device.
pub const PCI_MSI_MASK_32: usize = 0x0c;
/// Pending bits of a 32-bit device.
pub const PCI_MSI_PENDING_32: usize = 0x10;
/// Message data of a 64-bit device.
pub const PCI_MSI_DATA_64: usize = 0x0c;
/// Mask bits of a 64-bit device.
pub const PCI_MSI_MASK_64: usize = 0x10;
/// Pending bits of a 64-bit device.
pub const PCI_MSI_PENDING_64: usize = 0x14;

/// Length of the MSI-X capability.
pub const PCI_CAP_MSIX_SIZEOF: usize = 12;

/// AF capabilities (8 bits).
pub const PCI_AF_CAP: usize = 3;
/// AF: Transactions Pending supported.
pub const PCI_AF_CAP_TP: u8 = 0x01;
/// AF: Function Level Reset supported.
pub const PCI_AF_CAP_FLR: u8 = 0x02;
/// AF control (8 bits).
pub const PCI_AF_CTRL: usize = 4;
/// AF: initiate Function Level Reset.
pub const PCI_AF_CTRL_FLR: u8 = 0x01;
/// Length of the AF capability.
pub const PCI_CAP_AF_SIZEOF: usize = 6;

/// PCI-X command (16 bits).
pub const PCI_X_CMD: usize = 2;
/// PCI-X ECC control and status.
pub const PCI_X_ECC_CSR: usize = 8;
/// Length of a version 0 PCI-X capability.
pub const PCI_CAP_PCIX_SIZEOF_V0: usize = 8;
/// Length of a version 1 or 2 PCI-X capability.
pub const PCI_CAP_PCIX_SIZEOF_V2: usize = 24;

/// `PCI_X_CMD_VERSION()`: the capability version field.
pub const fn pci_x_cmd_version(cmd: u16) -> u16 {
    (cmd >> 12) & 3
}

/// PCIe capabilities register version field.
pub const PCI_EXP_FLAGS_VERS: u16 = 0x000f;
/// PCIe capabilities register device/port type field.
pub const PCI_EXP_FLAGS_TYPE: u16 = 0x00f0;
/// Root Complex Integrated Endpoint.
pub const PCI_EXP_TYPE_RC_END: u16 = 0x9;
/// PCIe device capabilities (32 bits).
pub const PCI_EXP_DEVCAP: usize = 0x04;
/// Function Level Reset supported.
pub const PCI_EXP_DEVCAP_FLR: u32 = 0x1000_0000;
/// PCIe device control (16 bits).
pub const PCI_EXP_DEVCTL: usize = 0x08;
/// Max_Payload_Size.
pub const PCI_EXP_DEVCTL_PAYLOAD: u16 = 0x00e0;
/// Phantom Functions Enable.
pub const PCI_EXP_DEVCTL_PHANTOM: u16 = 0x0200;
/// Max_Read_Request_Size.
pub const PCI_EXP_DEVCTL_READRQ: u16 = 0x7000;
/// Bridge Configuration Retry / Initiate FLR.
pub const PCI_EXP_DEVCTL_BCR_FLR: u16 = 0x8000;
/// PCIe device control 2 (16 bits).
pub const PCI_EXP_DEVCTL2: usize = 0x28;
/// Alternative Routing-ID forwarding.
pub const PCI_EXP_DEVCTL2_ARI: u16 = 0x0020;
/// End of a v1 PCIe capability with a link.
pub const PCI_CAP_EXP_ENDPOINT_SIZEOF_V1: usize = 20;
/// End of a v1 Root Complex integrated endpoint's capability.
pub const PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V1: usize = 12;
/// End of a v2 PCIe capability with a link.
pub const PCI_CAP_EXP_ENDPOINT_SIZEOF_V2: usize = 0x34;
/// End of a v2 Root Complex integrated endpoint's capability.
pub const PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V2: usize = 0x2c;

/// HyperTransport: capability type field of a 3-bit type.
pub const HT_3BIT_CAP_MASK: u8 = 0xe0;
/// HyperTransport slave and primary interface length.
pub const HT_CAP_SIZEOF_LONG: usize = 28;
/// HyperTransport host and secondary interface length.
pub const HT_CAP_SIZEOF_SHORT: usize = 24;

/// SATA registers location.
pub const PCI_SATA_REGS: usize = 4;
/// SATA registers location mask.
pub const PCI_SATA_REGS_MASK: u8 = 0xf;
/// SATA registers are in config space.
pub const PCI_SATA_REGS_INLINE: u8 = 0xf;
/// SATA capability without inline registers.
pub const PCI_SATA_SIZEOF_SHORT: usize = 8;
/// SATA capability with inline registers.
pub const PCI_SATA_SIZEOF_LONG: usize = 16;

/// `PCI_EXT_CAP_ID()`: ID of an extended capability header.
pub const fn pci_ext_cap_id(header: u32) -> u16 {
    // CAST: masked to 16 bits.
    (header & 0xffff) as u16
}

/// `PCI_EXT_CAP_NEXT()`: next pointer of an extended capability header.
pub const fn pci_ext_cap_next(header: u32) -> usize {
    // CAST: masked to 12 bits.
    ((header >> 20) & 0xffc) as usize
}

/// Advanced Error Reporting.
pub const PCI_EXT_CAP_ID_ERR: u16 = 0x01;
/// Virtual Channel.
pub const PCI_EXT_CAP_ID_VC: u16 = 0x02;
/// Device Serial Number.
pub const PCI_EXT_CAP_ID_DSN: u16 = 0x03;
/// Power Budgeting.
pub const PCI_EXT_CAP_ID_PWR: u16 = 0x04;
/// Multi-Function Virtual Channel.
pub const PCI_EXT_CAP_ID_MFVC: u16 = 0x08;
/// Virtual Channel, second ID.
pub const PCI_EXT_CAP_ID_VC9: u16 = 0x09;
/// Vendor-specific.
pub const PCI_EXT_CAP_ID_VNDR: u16 = 0x0b;
/// Access Control Services.
pub const PCI_EXT_CAP_ID_ACS: u16 = 0x0d;
/// Alternative Routing-ID.
pub const PCI_EXT_CAP_ID_ARI: u16 = 0x0e;
/// Address Translation Services.
pub const PCI_EXT_CAP_ID_ATS: u16 = 0x0f;
/// Single Root I/O Virtualization.
pub const PCI_EXT_CAP_ID_SRIOV: u16 = 0x10;
/// Multicast.
pub const PCI_EXT_CAP_ID_MCAST: u16 = 0x12;
/// Page Request Interface.
pub const PCI_EXT_CAP_ID_PRI: u16 = 0x13;
/// Resizable BAR.
pub const PCI_EXT_CAP_ID_REBAR: u16 = 0x15;
/// Dynamic Power Allocation.
pub const PCI_EXT_CAP_ID_DPA: u16 = 0x16;
/// TPH Requester.
pub const PCI_EXT_CAP_ID_TPH: u16 = 0x17;
/// Latency Tolerance Reporting.
pub const PCI_EXT_CAP_ID_LTR: u16 = 0x18;
/// Designated Vendor-Specific.
pub const PCI_EXT_CAP_ID_DVSEC: u16 = 0x23;
/// Physical Layer 64.0 GT/s, the highest ID the kernel knows.
pub const PCI_EXT_CAP_ID_MAX: u16 = 0x31;

/// AER: Uncorrectable Error Status.
pub const PCI_ERR_UNCOR_STATUS: usize = 0x04;
/// AER: Uncorrectable Error Mask.
pub const PCI_ERR_UNCOR_MASK: usize = 0x08;
/// AER: Uncorrectable Error Severity.
pub const PCI_ERR_UNCOR_SEVER: usize = 0x0c;
/// AER: Correctable Error Status.
pub const PCI_ERR_COR_STATUS: usize = 0x10;
/// AER: Correctable Error Mask.
pub const PCI_ERR_COR_MASK: usize = 0x14;
/// AER: Advanced Error Capabilities and Control.
pub const PCI_ERR_CAP: usize = 0x18;
/// AER: ECRC Generation Enable.
pub const PCI_ERR_CAP_ECRC_GENE: u32 = 0x0000_0040;
/// AER: ECRC Check Enable.
pub const PCI_ERR_CAP_ECRC_CHKE: u32 = 0x0000_0100;
/// AER: Root Error Command, the end of what an endpoint implements.
pub const PCI_ERR_ROOT_COMMAND: usize = 0x2c;

/// AER uncorrectable bits a user may write (`init_pci_ext_cap_err_perm()`):
/// UND, DLP, SURPDN, POISON_TLP, FCP, COMP_TIME, COMP_ABORT, UNX_COMP,
/// RX_OVER, MALF_TLP, ECRC, UNSUP, ACSV, INTN, MCBTLP, ATOMEG, TLPPRE.
pub const PCI_ERR_UNC_USER_MASK: u32 = 0x0000_0001
    | 0x0000_0010
    | 0x0000_0020
    | 0x0000_1000
    | 0x0000_2000
    | 0x0000_4000
    | 0x0000_8000
    | 0x0001_0000
    | 0x0002_0000
    | 0x0004_0000
    | 0x0008_0000
    | 0x0010_0000
    | 0x0020_0000
    | 0x0040_0000
    | 0x0080_0000
    | 0x0100_0000
    | 0x0200_0000;

/// AER correctable bits a user may write: RCVR, BAD_TLP, BAD_DLLP,
/// REP_ROLL, REP_TIMER, ADV_NFAT, INTERNAL, LOG_OVER.
pub const PCI_ERR_COR_USER_MASK: u32 = 0x0000_0001
    | 0x0000_0040
    | 0x0000_0080
    | 0x0000_0100
    | 0x0000_1000
    | 0x0000_2000
    | 0x0000_4000
    | 0x0000_8000;

/// VC: Port VC Capability 1.
pub const PCI_VC_PORT_CAP1: usize = 0x04;
/// VC: extended VC count.
pub const PCI_VC_CAP1_EVCC: u32 = 0x0000_0007;
/// VC: Port VC Capability 2.
pub const PCI_VC_PORT_CAP2: usize = 0x08;
/// VC: 32-phase arbitration table.
pub const PCI_VC_CAP2_32_PHASE: u32 = 0x0000_0002;
/// VC: 64-phase arbitration table.
pub const PCI_VC_CAP2_64_PHASE: u32 = 0x0000_0004;
/// VC: 128-phase arbitration table.
pub const PCI_VC_CAP2_128_PHASE: u32 = 0x0000_0008;
/// VC: size without the per-VC resources.
pub const PCI_CAP_VC_BASE_SIZEOF: usize = 0x10;
/// VC: size of one VC resource.
pub const PCI_CAP_VC_PER_VC_SIZEOF: usize = 0x0c;

/// Power Budgeting: data select register.
pub const PCI_PWR_DATA: usize = 0x08;
/// Length of the Power Budgeting capability.
pub const PCI_EXT_CAP_PWR_SIZEOF: usize = 0x10;
/// Length of the Device Serial Number capability.
pub const PCI_EXT_CAP_DSN_SIZEOF: usize = 12;
/// Length of the Multicast capability of an endpoint.
pub const PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF: usize = 40;
/// Length of the ARI capability.
pub const PCI_EXT_CAP_ARI_SIZEOF: usize = 8;
/// Length of the ATS capability.
pub const PCI_EXT_CAP_ATS_SIZEOF: usize = 8;
/// Length of the PRI capability.
pub const PCI_EXT_CAP_PRI_SIZEOF: usize = 16;
/// Length of the SR-IOV capability.
pub const PCI_EXT_CAP_SRIOV_SIZEOF: usize = 0x40;
/// Length of the LTR capability.
pub const PCI_EXT_CAP_LTR_SIZEOF: usize = 8;

/// Vendor-specific extended capability header.
pub const PCI_VNDR_HEADER: usize = 4;
/// ACS capability register.
pub const PCI_ACS_CAP: usize = 0x04;
/// ACS P2P Egress Control.
pub const PCI_ACS_EC: u8 = 0x20;
/// ACS Egress Control Vector Size.
pub const PCI_ACS_EGRESS_BITS: usize = 0x05;
/// Resizable BAR control register.
pub const PCI_REBAR_CTRL: usize = 8;
/// Resizable BAR: number of resizable BARs.
pub const PCI_REBAR_CTRL_NBAR_MASK: u8 = 0xe0;
/// Resizable BAR: shift of the number of BARs.
pub const PCI_REBAR_CTRL_NBAR_SHIFT: u8 = 5;
/// DPA capability register.
pub const PCI_DPA_CAP: usize = 4;
/// DPA: number of substates - 1.
pub const PCI_DPA_CAP_SUBSTATE_MASK: u8 = 0x1f;
/// DPA: size with no substates.
pub const PCI_DPA_BASE_SIZEOF: usize = 16;
/// TPH capability register.
pub const PCI_TPH_CAP: usize = 4;
/// TPH: ST table location.
pub const PCI_TPH_CAP_LOC_MASK: u32 = 0x0000_0600;
/// TPH: ST table in the capability.
pub const PCI_TPH_LOC_CAP: u32 = 0x0000_0200;
/// TPH: ST table size.
pub const PCI_TPH_CAP_ST_MASK: u32 = 0x07ff_0000;
/// TPH: ST table size shift.
pub const PCI_TPH_CAP_ST_SHIFT: u32 = 16;
/// TPH: size with no ST table.
pub const PCI_TPH_BASE_SIZEOF: usize = 0xc;
/// DVSEC header 1.
pub const PCI_DVSEC_HEADER1: usize = 0x4;

/// `PCI_VNDR_HEADER_LEN()` and `PCI_DVSEC_HEADER1_LEN()`: length field.
pub const fn vsec_len(header: u32) -> usize {
    // CAST: masked to 12 bits.
    ((header >> 20) & 0xfff) as usize
}
