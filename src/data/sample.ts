// The shapes training data takes on its way to the model: a dataset lists items (files), a worker
// decodes an item into a RawSample, the mapper (augmentation) turns that into a MappedSample, and
// the loader stacks MappedSamples into tensors. Plain typed arrays only, so that every stage can
// run in a worker thread and cross to the main thread by transfer, without the tensor engine.

/** One image and its label map on disk. */
export interface DatasetItem {
  /** File stem shared by image and label. */
  key: string;
  imagePath: string;
  labelPath: string;
}

/** A semantic-segmentation dataset: files plus the vocabulary its label values index. */
export interface SegDataset {
  /** detectron2 name (coco_2017_train_stuff_all_sem_seg) or the folder of a custom dataset. */
  name: string;
  /** Class names in label-value order (the prompts the text encoder sees). */
  classNames: string[];
  /** Label value of unlabelled pixels (255; 65535 or 459 for the 16-bit benchmarks). */
  ignoreLabel: number;
  items: DatasetItem[];
}

/** A decoded item, before augmentation: interleaved RGB (HWC) and labels (HW), same size. */
export interface RawSample {
  key: string;
  width: number;
  height: number;
  /** data[(y * width + x) * 3 + c], RGB. */
  image: Uint8Array;
  /** labels[y * width + x]; ignore pixels hold the dataset's ignore label. */
  label: Uint8Array | Uint16Array;
}

/** A sample ready for the model: what MaskFormerSemanticDatasetMapper returns. */
export interface MappedSample {
  key: string;
  width: number;
  height: number;
  /** Planar RGB (CHW) uint8: image[c * height * width + y * width + x]. */
  image: Uint8Array;
  /** Labels (HW); padding and ignore pixels hold the ignore label. */
  label: Uint16Array;
}
