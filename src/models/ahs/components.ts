// The three AHS-Seg components as typed options (what the builder reads from MODEL.SEM_SEG_HEAD.USE_*
// and MODEL.AHS.*), and the choice between each component's modes: one module per mode, picked
// here, never a mode flag inside a block.
import { AhsError } from '../../errors.js';
import { CoftRadius } from './coft_radius.js';
import { GeodesicStrength, type HemMode, type HemTransform } from './ha_hem.js';
import { ReadmeConvex } from './readme_convex.js';

export type MsFpnTarget = 'guidance' | 'cost';
export type BoundaryMode = 'weighted_bce' | 'sobel_ahs';
export type DcHspMode = 'gate' | 'rank';

export interface HaHemComponent { mode: HemMode; visionOrtho: boolean }
export interface MhFpnComponent {
  target: MsFpnTarget;
  /** 0-based CLIP blocks fused (ViT-B 3, 7, 11); the last block is read from the dense forward's
   * final residual stream. */
  layers: readonly number[];
  boundary: BoundaryMode;
}
export interface DcHspComponent { mode: DcHspMode }

/** Which components a CATSeg model has (absent or null = off, the CAT-Seg / H-CLIP baseline). */
export interface AhsComponentOptions {
  hem?: HaHemComponent | null;
  msfpn?: MhFpnComponent | null;
  dchsp?: DcHspComponent | null;
}

/** The state-dict prefixes of the components (what a baseline checkpoint lacks). */
export const AHS_COMPONENT_PREFIXES = ['sem_seg_head.predictor.hem.', 'sem_seg_head.predictor.ms_fpn.', 'sem_seg_head.predictor.ms_cost.', 'sem_seg_head.predictor.dc_hsp.'] as const;

/** HA-HEM's transform rule for OFT relations of `layers` layers and `blockSize` blocks. */
export function buildHaHem(o: HaHemComponent, layers: number, blockSize: number): HemTransform {
  switch (o.mode) {
    case 'geodesic': return new GeodesicStrength({ layers, visionOrtho: o.visionOrtho });
    case 'coft': return new CoftRadius({ layers, visionOrtho: o.visionOrtho, blockSize });
    case 'readme_convex': return new ReadmeConvex({ layers, visionOrtho: o.visionOrtho });
    default: throw new AhsError('AHS_ERR_INVALID_ARGUMENT', `HA-HEM: unknown mode '${String(o.mode)}' (geodesic, coft, readme_convex)`);
  }
}
