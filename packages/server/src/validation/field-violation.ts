/** One invalid request field. `field` is a proto-field-name path relative to the request. */
export interface FieldViolation {
  field: string;
  description: string;
}
