// Training checkpoints are safetensors files whose model tensors keep their own names (so any
// loader of the model reads them as weights) and whose trainer state (optimizer moments) sits under
// one reserved prefix that weight loaders skip.
export const TRAINER_STATE_PREFIX = '_trainer.';

export const isTrainerStateKey = (key: string): boolean => key.startsWith(TRAINER_STATE_PREFIX);
