// The contract's constants are generated from contract/constants.json (one source for
// every SDK); see the generated module for the values and their meaning.
export { Annotations, ErrorReasons, Phases, ResponseHeaders, Tokens } from "./gen/constants.js";
