// The library API (README "Library API"): models by name, createSegmenter, segment, dispose.
export { createSegmenter, ImageSegmenter, type CreateSegmenterOptions } from './segmenter.js';
export type { SegmentOptions, SegmentResult, ClassSummary, ModelInfo } from './segment_result.js';
export type { ImageInput, RawImage } from './image_input.js';
export type { DenseFeatures, Protocol } from './dense_backend.js';
export type { OverlayOptions } from './overlay_legend.js';
export { MODELS, DEFAULT_MODEL, type CatalogModel, type ModelKind } from './models.js';
export { planModel, fetchModel, type ModelPlan, type ModelSource } from './model_source.js';
export { listModels, type ModelListing } from './model_listing.js';
export { classColor } from './colour_mask.js';
