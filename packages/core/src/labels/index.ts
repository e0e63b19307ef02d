export {
  type LabelRequirement,
  type LabelSelector,
  LabelSelectorError,
  type LabelSelectorOperator,
  parseLabelSelector,
} from "./label-selector.js";
export {
  type LabelViolation,
  MAX_LABEL_NAME_LENGTH,
  MAX_LABEL_PREFIX_LENGTH,
  MAX_LABEL_VALUE_LENGTH,
  MAX_LABELS,
  MAX_LABELS_TOTAL_BYTES,
  validateLabelKey,
  validateLabels,
  validateLabelValue,
} from "./validate-label.js";
