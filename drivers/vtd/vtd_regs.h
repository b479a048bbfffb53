/*
 * vtd_regs.h - the VT-d remapping unit's registers and in-memory
 * structures L0 uses, by the specification's names (Intel VT-d
 * specification rev. 4.x: chapter 11 "Register Descriptions", 9.1 root
 * entry, 9.3 context entry, 6.5.2 invalidation descriptors, 7.2 fault
 * recording).  Nothing else: one constant per architectural bit, no logic.
 */
#ifndef MICROHV_DRIVERS_VTD_VTD_REGS_H
#define MICROHV_DRIVERS_VTD_VTD_REGS_H

/* 11.4 register offsets (from the unit's register base). */
#define VTD_VER_REG 0x00
#define VTD_CAP_REG 0x08
#define VTD_ECAP_REG 0x10
#define VTD_GCMD_REG 0x18
#define VTD_GSTS_REG 0x1c
#define VTD_RTADDR_REG 0x20
#define VTD_CCMD_REG 0x28
#define VTD_FSTS_REG 0x34
#define VTD_FECTL_REG 0x38
#define VTD_PMEN_REG 0x64
#define VTD_FEDATA_REG 0x3c
#define VTD_FEADDR_REG 0x40
#define VTD_FEUADDR_REG 0x44
#define VTD_IQH_REG 0x80
#define VTD_IQT_REG 0x88
#define VTD_IQA_REG 0x90
#define VTD_ICS_REG 0x9c
/* 11.4.8: the IOTLB registers sit at ECAP.IRO * 16: IVA, then IOTLB. */
#define VTD_IOTLB_REG_OFF 0x08

/* 11.4.2 CAP_REG */
#define VTD_CAP_ND(c) ((unsigned)((c) & 7))
#define VTD_CAP_RWBF (1ull << 4)
#define VTD_CAP_PLMR (1ull << 5) /* protected low-memory region */
#define VTD_CAP_PHMR (1ull << 6) /* protected high-memory region */
#define VTD_CAP_CM (1ull << 7)
#define VTD_CAP_SAGAW(c) ((unsigned)(((c) >> 8) & 0x1f))
#define VTD_SAGAW_39 (1u << 1) /* 3-level */
#define VTD_SAGAW_48 (1u << 2) /* 4-level */
#define VTD_SAGAW_57 (1u << 3) /* 5-level */
#define VTD_CAP_MGAW(c) ((unsigned)(((c) >> 16) & 0x3f) + 1)
#define VTD_CAP_FRO(c) ((unsigned)(((c) >> 24) & 0x3ff) * 16)
#define VTD_CAP_SLLPS_2M (1ull << 34)
#define VTD_CAP_SLLPS_1G (1ull << 35)
#define VTD_CAP_NFR(c) ((unsigned)(((c) >> 40) & 0xff) + 1)
#define VTD_CAP_DWD (1ull << 54) /* write draining */
#define VTD_CAP_DRD (1ull << 55) /* read draining */

/* 11.4.3 ECAP_REG */
#define VTD_ECAP_C (1ull << 0)	/* page walks snoop the CPU caches */
#define VTD_ECAP_QI (1ull << 1) /* queued invalidation */
#define VTD_ECAP_IRO(e) ((unsigned)(((e) >> 8) & 0x3ff) * 16)

/* 11.4.4 GCMD_REG, 11.4.5 GSTS_REG: one bit position each, command and status. */
#define VTD_GCMD_TE (1u << 31)	 /* GSTS.TES */
#define VTD_GCMD_SRTP (1u << 30) /* GSTS.RTPS */
#define VTD_GCMD_WBF (1u << 27)	 /* GSTS.WBFS (set while the flush runs) */
#define VTD_GCMD_QIE (1u << 26)	 /* GSTS.QIES */
#define VTD_GCMD_IRE (1u << 25)	 /* GSTS.IRES */
/* 11.4.4: the one-shot commands (SRTP, SFL, WBF, SIRTP) never written back from GSTS. */
#define VTD_GSTS_ONE_SHOT_MASK 0x96ffffffu

/* 11.4.6 RTADDR_REG: bits 11:10 TTM, 00 = legacy mode root table. */
#define VTD_RTADDR_TTM_LEGACY (0ull << 10)

/* 11.4.7 CCMD_REG */
#define VTD_CCMD_ICC (1ull << 63)
#define VTD_CCMD_CIRG_GLOBAL (1ull << 61)
#define VTD_CCMD_CAIG(v) ((unsigned)(((v) >> 59) & 3))

/* 11.4.8.1 IOTLB_REG */
#define VTD_IOTLB_IVT (1ull << 63)
#define VTD_IOTLB_IIRG_GLOBAL (1ull << 60)
#define VTD_IOTLB_IAIG(v) ((unsigned)(((v) >> 57) & 3))
#define VTD_IOTLB_DR (1ull << 49)
#define VTD_IOTLB_DW (1ull << 48)

/* 11.4.9.1 FSTS_REG (the status bits are RW1C) */
#define VTD_FSTS_PFO (1u << 0)
#define VTD_FSTS_PPF (1u << 1)
#define VTD_FSTS_IQE (1u << 4)
#define VTD_FSTS_ICE (1u << 5)
#define VTD_FSTS_ITE (1u << 6)
#define VTD_FSTS_FRI(f) ((unsigned)(((f) >> 8) & 0xff))
#define VTD_FSTS_CLEAR_ALL (VTD_FSTS_PFO | (1u << 2) | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE)

/* 11.4.9.2 FECTL_REG */
#define VTD_FECTL_IM (1u << 31)

/* 11.4.16 PMEN_REG */
#define VTD_PMEN_EPM (1u << 31)
#define VTD_PMEN_PRS (1u << 0)

/* 11.4.14 FRCD_REG: 128 bits each; the upper quadword at +8. */
#define VTD_FRCD_HI_F (1ull << 63)
#define VTD_FRCD_HI_T1 (1ull << 62) /* 1: a read request, 0: a write */
#define VTD_FRCD_HI_FR(h) ((unsigned)(((h) >> 32) & 0xff))
#define VTD_FRCD_HI_SID(h) ((unsigned)((h) & 0xffff))
#define VTD_FRCD_LO_FI(l) ((l) & ~0xfffull)

/* 11.4.10 IQA_REG: base, DW (bit 11, 0 = 128-bit descriptors), QS (2:0). */
#define VTD_IQA_QS_4K 0ull /* 256 descriptors of 16 bytes */
#define VTD_IQ_DESC_SHIFT 4 /* IQT/IQH hold the descriptor index << 4 */
#define VTD_IQ_ENTRIES 256u

/* 6.5.2 invalidation descriptors, low quadword. */
#define VTD_INV_CC 0x1ull    /* context-cache invalidate */
#define VTD_INV_IOTLB 0x2ull /* IOTLB invalidate */
#define VTD_INV_WAIT 0x5ull  /* invalidation wait */
#define VTD_INV_G_GLOBAL (1ull << 4)
#define VTD_INV_IOTLB_DW (1ull << 6)
#define VTD_INV_IOTLB_DR (1ull << 7)
#define VTD_INV_WAIT_SW (1ull << 5)
#define VTD_INV_WAIT_FN (1ull << 6)
#define VTD_INV_WAIT_DATA(d) ((unsigned long long)(d) << 32)

/* 9.1 root entry (legacy mode), low quadword. */
#define VTD_ROOT_P (1ull << 0)
/* 9.3 context entry (legacy mode). */
#define VTD_CTX_LO_P (1ull << 0)
#define VTD_CTX_LO_TT_UNTRANSLATED (0ull << 2) /* untranslated requests only */
#define VTD_CTX_HI_AW(levels) ((unsigned long long)((levels) - 2))
#define VTD_CTX_HI_DID(d) ((unsigned long long)(d) << 8)

/* 7.1.3 fault reasons L0 names (the rest are numbers). */
#define VTD_FR_ROOT_NOT_PRESENT 0x1
#define VTD_FR_CTX_NOT_PRESENT 0x2
#define VTD_FR_CTX_INVALID 0x3
#define VTD_FR_BEYOND_AGAW 0x4
#define VTD_FR_WRITE 0x5
#define VTD_FR_READ 0x6

#endif
