// CAT-Seg's cost-aggregation head (cvlab-kaist/CAT-Seg), module by module.
export { l2Normalize, correlation, embedCost, classCostMax, selectTopClasses, gatherClasses, scatterClassLogits } from './cost_volume.js';
export { WindowAttention, SwinTransformerBlock, Mlp, windowOrder, shiftedWindowMask, type SwinBlockOptions } from './swin_block.js';
export { SwinTransformerBlockWrapper, type SpatialAggregationOptions } from './spatial_aggregation.js';
export { AttentionLayer, linearAttention, fullAttention, type AttentionType } from './class_attention.js';
export { ClassTransformerLayer, type ClassAggregationOptions } from './class_aggregation.js';
export { DoubleConv, Up } from './upsampling_decoder.js';
export { Aggregator, AggregatorLayer, type AggregatorOptions, type AggregatorForwardOptions, type Trace } from './aggregator.js';
export { guidanceUpsampler, tokensToGrid, type TokenLayout } from './guidance_upsampler.js';
export {
  CatSegHead, Namespace, normalizeClassEmbeddings, aggregatorOptionsFromConfig, aggregatorOptionsFromHeadConfig, aggregatorOptionsFromShapes,
  type CatSegHeadOptions, type CatSegHeadInputs, type CatSegHeadCfg,
} from './catseg_head.js';
export { catSegLoss, oneHotTargets, type CatSegLossMode, type CatSegLossOptions } from './loss.js';
