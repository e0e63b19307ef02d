package vcluster

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Label limits, as Kubernetes defines them.
const (
	MaxLabelNameLength   = 63
	MaxLabelValueLength  = 63
	MaxLabelPrefixLength = 253
)

// Operator is a label-selector operator. Equals also stands for "==".
type Operator string

// The operators of Kubernetes label selectors.
const (
	OpEquals       Operator = "="
	OpNotEquals    Operator = "!="
	OpIn           Operator = "in"
	OpNotIn        Operator = "notin"
	OpExists       Operator = "exists"
	OpDoesNotExist Operator = "!exists"
)

// Requirement is one AND-ed term of a selector.
type Requirement struct {
	Key      string
	Operator Operator
	// One value for = and !=, a sorted non-empty set for in and notin, none otherwise.
	Values []string
}

// Selector is a parsed Kubernetes label selector. The zero value matches everything.
type Selector struct {
	// The requirements, sorted by key.
	Requirements []Requirement
}

// SelectorError reports a selector that cannot be parsed.
type SelectorError struct {
	Selector string
	// Offset is the 0-based byte offset of the problem in Selector.
	Offset  int
	Problem string
}

func (e *SelectorError) Error() string {
	return fmt.Sprintf("invalid label selector %q: %s at offset %d", e.Selector, e.Problem, e.Offset)
}

// ParseSelector parses an equality- or set-based selector: a comma-separated AND of k=v,
// k==v, k!=v, "k in (a,b)", "k notin (a,b)", k and !k. The empty string matches everything.
func ParseSelector(text string) (Selector, error) {
	tokens, err := tokenize(text)
	if err != nil {
		return Selector{}, err
	}
	p := &selectorParser{text: text, tokens: tokens}
	reqs, err := p.parse()
	if err != nil {
		return Selector{}, err
	}
	slices.SortStableFunc(reqs, func(a, b Requirement) int { return strings.Compare(a.Key, b.Key) })
	return Selector{Requirements: reqs}, nil
}

// Matches reports whether the labels satisfy every requirement.
func (s Selector) Matches(labels map[string]string) bool {
	for _, r := range s.Requirements {
		if !r.matches(labels) {
			return false
		}
	}
	return true
}

// String is the canonical form: sorted by key, == written =, sets sorted and deduplicated.
func (s Selector) String() string {
	parts := make([]string, len(s.Requirements))
	for i, r := range s.Requirements {
		parts[i] = r.String()
	}
	return strings.Join(parts, ",")
}

func (r Requirement) String() string {
	switch r.Operator {
	case OpExists:
		return r.Key
	case OpDoesNotExist:
		return "!" + r.Key
	case OpIn, OpNotIn:
		return r.Key + " " + string(r.Operator) + " (" + strings.Join(r.Values, ",") + ")"
	default:
		value := ""
		if len(r.Values) > 0 {
			value = r.Values[0]
		}
		return r.Key + string(r.Operator) + value
	}
}

func (r Requirement) matches(labels map[string]string) bool {
	value, present := labels[r.Key]
	switch r.Operator {
	case OpExists:
		return present
	case OpDoesNotExist:
		return !present
	case OpEquals:
		return present && value == r.Values[0]
	case OpNotEquals:
		return !present || value != r.Values[0]
	case OpIn:
		return present && slices.Contains(r.Values, value)
	case OpNotIn:
		return !present || !slices.Contains(r.Values, value)
	}
	return false
}

type tokenKind int

const (
	tokIdentifier tokenKind = iota
	tokOpen
	tokClose
	tokComma
	tokEquals
	tokDoubleEquals
	tokNotEquals
	tokBang
	tokEnd
)

type token struct {
	kind     tokenKind
	text     string
	position int
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isDelimiter(c byte) bool { return strings.IndexByte("(),=!<>", c) >= 0 }

func tokenize(text string) ([]token, error) {
	var tokens []token
	for i := 0; i < len(text); {
		c := text[i]
		if isSpace(c) {
			i++
			continue
		}
		next := byte(0)
		if i+1 < len(text) {
			next = text[i+1]
		}
		switch {
		case c == '(':
			tokens = append(tokens, token{tokOpen, "(", i})
			i++
		case c == ')':
			tokens = append(tokens, token{tokClose, ")", i})
			i++
		case c == ',':
			tokens = append(tokens, token{tokComma, ",", i})
			i++
		case c == '=' && next == '=':
			tokens = append(tokens, token{tokDoubleEquals, "==", i})
			i += 2
		case c == '=':
			tokens = append(tokens, token{tokEquals, "=", i})
			i++
		case c == '!' && next == '=':
			tokens = append(tokens, token{tokNotEquals, "!=", i})
			i += 2
		case c == '!':
			tokens = append(tokens, token{tokBang, "!", i})
			i++
		case c == '<' || c == '>':
			return nil, &SelectorError{text, i, fmt.Sprintf("operator %q is not supported", string(c))}
		default:
			end := i
			for end < len(text) && !isSpace(text[end]) && !isDelimiter(text[end]) {
				end++
			}
			tokens = append(tokens, token{tokIdentifier, text[i:end], i})
			i = end
		}
	}
	return append(tokens, token{tokEnd, "", len(text)}), nil
}

func describe(t token) string {
	if t.kind == tokEnd {
		return "end of selector"
	}
	return strconv.Quote(t.text)
}

type selectorParser struct {
	text   string
	tokens []token
	index  int
}

func (p *selectorParser) peek() token { return p.tokens[p.index] }

func (p *selectorParser) take() token {
	t := p.peek()
	if t.kind != tokEnd {
		p.index++
	}
	return t
}

func (p *selectorParser) fail(t token, format string, args ...any) error {
	return &SelectorError{p.text, t.position, fmt.Sprintf(format, args...)}
}

func (p *selectorParser) parse() ([]Requirement, error) {
	var reqs []Requirement
	if p.peek().kind == tokEnd {
		return reqs, nil
	}
	for {
		r, err := p.requirement()
		if err != nil {
			return nil, err
		}
		reqs = append(reqs, r)
		t := p.take()
		if t.kind == tokEnd {
			return reqs, nil
		}
		if t.kind != tokComma {
			return nil, p.fail(t, `expected "," or end of selector, found %s`, describe(t))
		}
	}
}

func (p *selectorParser) key() (string, error) {
	t := p.take()
	if t.kind != tokIdentifier {
		return "", p.fail(t, "expected a label key, found %s", describe(t))
	}
	if problem := ValidateLabelKey(t.text); problem != "" {
		return "", p.fail(t, "%s", problem)
	}
	return t.text, nil
}

func (p *selectorParser) value(t token) (string, error) {
	if problem := ValidateLabelValue(t.text); problem != "" {
		return "", p.fail(t, "%s", problem)
	}
	return t.text, nil
}

func (p *selectorParser) requirement() (Requirement, error) {
	if p.peek().kind == tokBang {
		p.take()
		key, err := p.key()
		return Requirement{Key: key, Operator: OpDoesNotExist}, err
	}
	key, err := p.key()
	if err != nil {
		return Requirement{}, err
	}
	t := p.peek()
	switch {
	case t.kind == tokEnd || t.kind == tokComma:
		return Requirement{Key: key, Operator: OpExists}, nil
	case t.kind == tokEquals || t.kind == tokDoubleEquals || t.kind == tokNotEquals:
		p.take()
		op := OpEquals
		if t.kind == tokNotEquals {
			op = OpNotEquals
		}
		v, err := p.singleValue(t)
		return Requirement{Key: key, Operator: op, Values: []string{v}}, err
	case t.kind == tokIdentifier && (t.text == "in" || t.text == "notin"):
		p.take()
		values, err := p.valueSet(t)
		return Requirement{Key: key, Operator: Operator(t.text), Values: values}, err
	}
	return Requirement{}, p.fail(t, "expected an operator (=, ==, !=, in, notin) after key %q, found %s", key, describe(t))
}

// singleValue reads the value after =, == or !=; "k=" selects the empty value, as in Kubernetes.
func (p *selectorParser) singleValue(op token) (string, error) {
	t := p.peek()
	if t.kind == tokEnd || t.kind == tokComma {
		return "", nil
	}
	if t.kind != tokIdentifier {
		return "", p.fail(t, "expected a value after %q, found %s", op.text, describe(t))
	}
	p.take()
	return p.value(t)
}

func (p *selectorParser) valueSet(op token) ([]string, error) {
	open := p.take()
	if open.kind != tokOpen {
		return nil, p.fail(open, "expected \"(\" after %q, found %s", op.text, describe(open))
	}
	if p.peek().kind == tokClose {
		return nil, p.fail(p.peek(), "the set of values for %q must not be empty", op.text)
	}
	set := map[string]bool{}
	for {
		t := p.peek()
		switch t.kind {
		case tokIdentifier:
			p.take()
			v, err := p.value(t)
			if err != nil {
				return nil, err
			}
			set[v] = true
		case tokComma, tokClose:
			set[""] = true
		default:
			return nil, p.fail(t, "expected a value or \")\" in the set of values for %q, found %s", op.text, describe(t))
		}
		sep := p.take()
		if sep.kind == tokClose {
			break
		}
		if sep.kind != tokComma {
			return nil, p.fail(sep, "expected \",\" or \")\" in the set of values for %q, found %s", op.text, describe(sep))
		}
	}
	values := make([]string, 0, len(set))
	for v := range set {
		values = append(values, v)
	}
	slices.Sort(values)
	return values, nil
}

var (
	labelNamePattern = regexp.MustCompile(`^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$`)
	dns1123Label     = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`)
)

func prefixProblem(prefix string) string {
	if prefix == "" {
		return "prefix before '/' must not be empty"
	}
	if len(prefix) > MaxLabelPrefixLength {
		return fmt.Sprintf("prefix must be at most %d characters (got %d)", MaxLabelPrefixLength, len(prefix))
	}
	for _, part := range strings.Split(prefix, ".") {
		if len(part) > 63 || !dns1123Label.MatchString(part) {
			return fmt.Sprintf("prefix %q must be a DNS-1123 subdomain (lowercase alphanumeric characters, '-' or '.', starting and ending with an alphanumeric character)", prefix)
		}
	}
	return ""
}

// ValidateLabelKey returns what is wrong with a label key, or "" when it is valid.
func ValidateLabelKey(key string) string {
	if key == "" {
		return "label key must not be empty"
	}
	if strings.Count(key, "/") > 1 {
		return fmt.Sprintf("label key %q must contain at most one '/'", key)
	}
	name := key
	if prefix, rest, found := strings.Cut(key, "/"); found {
		if problem := prefixProblem(prefix); problem != "" {
			return fmt.Sprintf("label key %q: %s", key, problem)
		}
		name = rest
	}
	if name == "" {
		return fmt.Sprintf("label key %q: name must not be empty", key)
	}
	if len(name) > MaxLabelNameLength {
		return fmt.Sprintf("label key %q: name must be at most %d characters (got %d)", key, MaxLabelNameLength, len(name))
	}
	if !labelNamePattern.MatchString(name) {
		return fmt.Sprintf("label key %q: name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", key)
	}
	return ""
}

// ValidateLabelValue returns what is wrong with a label value, or "" when it is valid.
// Empty values are valid.
func ValidateLabelValue(value string) string {
	if value == "" {
		return ""
	}
	if len(value) > MaxLabelValueLength {
		return fmt.Sprintf("label value must be at most %d characters (got %d)", MaxLabelValueLength, len(value))
	}
	if !labelNamePattern.MatchString(value) {
		return fmt.Sprintf("label value %q must be empty or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character", value)
	}
	return ""
}
