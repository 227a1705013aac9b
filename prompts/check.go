package prompts

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"text/template"
	tparse "text/template/parse"

	"github.com/batonhq/baton"
)

// inputTypes maps every default template to the Go type of its data, as the comments on the
// Name constants document it. Check resolves field references against it.
var inputTypes = map[Name]reflect.Type{
	Greeting:         reflect.TypeFor[GreetingInput](),
	GreetShort:       reflect.TypeFor[GreetingInput](),
	AckHandoff:       reflect.TypeFor[AckHandoffInput](),
	ReaskEmail:       reflect.TypeFor[ReaskInput](),
	ReaskPhone:       reflect.TypeFor[ReaskInput](),
	ReaskOrderNumber: reflect.TypeFor[ReaskInput](),
	ReaskDate:        reflect.TypeFor[ReaskInput](),
	ReaskMoney:       reflect.TypeFor[ReaskInput](),
	ReaskName:        reflect.TypeFor[ReaskInput](),
	ReaskTime:        reflect.TypeFor[ReaskInput](),
	ReaskPeople:      reflect.TypeFor[ReaskInput](),
	ReaskDetail:      reflect.TypeFor[ReaskInput](),
	AskEmail:         reflect.TypeFor[DetailAskInput](),
	AskPhone:         reflect.TypeFor[DetailAskInput](),
	AskOrderNumber:   reflect.TypeFor[DetailAskInput](),
	AskDate:          reflect.TypeFor[DetailAskInput](),
	AskTime:          reflect.TypeFor[DetailAskInput](),
	AskMoney:         reflect.TypeFor[DetailAskInput](),
	AskName:          reflect.TypeFor[DetailAskInput](),
	AskPeople:        reflect.TypeFor[DetailAskInput](),
	AskDetail:        reflect.TypeFor[DetailAskInput](),
	AnswerSystem:     reflect.TypeFor[AnswerInput](),
	AnswerUser:       reflect.TypeFor[AnswerInput](),
	ClassifySystem:   reflect.TypeFor[ClassifyInput](),
	ClassifyUser:     reflect.TypeFor[ClassifyInput](),
	NoAnswer:         reflect.TypeFor[NoAnswerInput](),
	AfterHours:       reflect.TypeFor[AfterHoursInput](),
	WelcomeBack:      reflect.TypeFor[WelcomeBackInput](),
	AnswerReply:      reflect.TypeFor[AnswerReplyInput](),
	Clarify:          reflect.TypeFor[ClarifyInput](),
	OfferPerson:      reflect.TypeFor[OfferPersonInput](),
	OfferDeclined:    reflect.TypeFor[CustomerInput](),
	OutOfScope:       reflect.TypeFor[OutOfScopeInput](),
	AckQueued:        reflect.TypeFor[CustomerInput](),
	Acknowledge:      reflect.TypeFor[AgainInput](),
	DetailsReceived:  reflect.TypeFor[DetailsInput](),
	GatherReminder:   reflect.TypeFor[ReminderInput](),
	ExplainDetail:    reflect.TypeFor[ReminderInput](),
	SmallTalk:        reflect.TypeFor[SmallTalkInput](),
	// handoff.go
	HandoffInHours:      reflect.TypeFor[HandoffInHoursInput](),
	HandoffNobodyOnline: reflect.TypeFor[CustomerInput](),
	HandoffAfterHours:   reflect.TypeFor[HandoffAfterHoursInput](),
}

// InputType returns the type of template name's data, or nil for an unknown name.
func InputType(name Name) reflect.Type { return inputTypes[name] }

// TemplateError is a template body refused by Check: where (1-based line; 0 when unknown) and
// why, in words an admin can act on. It matches baton.ErrInvalid.
type TemplateError struct {
	Name   Name
	Line   int
	Reason string
}

func (e *TemplateError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("template %s, line %d: %s", e.Name, e.Line, e.Reason)
	}
	return fmt.Sprintf("template %s: %s", e.Name, e.Reason)
}

// Unwrap lets errors.Is match baton.ErrInvalid.
func (e *TemplateError) Unwrap() error { return baton.ErrInvalid }

// parseErrLine picks the line out of text/template's "template: name:LINE: reason".
var parseErrLine = regexp.MustCompile(`^template: [^:]*:(\d+):(?:\d+:)?\s*(.*)$`)

// Check parses body as template name and walks its parse tree, refusing a body that does not
// parse, calls an unknown function, or names a field its input type (InputType) lacks —
// in every branch, taken or not, since a trial render only sees the branches its sample takes.
// Errors are *TemplateError (matching baton.ErrInvalid), or wrap ErrUnknown for a name without
// a template.
func Check(name Name, body string) error {
	typ := InputType(name)
	if typ == nil {
		return fmt.Errorf("check prompt %q: %w", name, ErrUnknown)
	}
	_, err := checked(name, body, typ)
	return err
}

// checked parses and type-checks body against typ, returning the parsed template.
func checked(name Name, body string, typ reflect.Type) (*template.Template, error) {
	t, err := template.New(string(name)).Funcs(funcs).Option("missingkey=error").Parse(body)
	if err != nil {
		te := &TemplateError{Name: name, Reason: err.Error()}
		if m := parseErrLine.FindStringSubmatch(err.Error()); m != nil {
			te.Line, _ = strconv.Atoi(m[1])
			te.Reason = m[2]
		}
		return nil, te
	}
	c := &checker{name: name, tmpl: t, walking: map[string]bool{}}
	if t.Tree != nil {
		if err := c.walkTree(t.Tree, typ); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// checker walks one template's trees. A nil reflect.Type means "not known statically" (an
// interface, a builtin like index): references through it are not checked.
type checker struct {
	name    Name
	tmpl    *template.Template
	tree    *tparse.Tree // the tree being walked, for positions
	vars    []variable   // in scope, innermost last
	walking map[string]bool
}

type variable struct {
	name string
	typ  reflect.Type
}

func (c *checker) walkTree(tree *tparse.Tree, dot reflect.Type) error {
	outerTree, outerVars := c.tree, c.vars
	c.tree, c.vars = tree, []variable{{"$", dot}}
	defer func() { c.tree, c.vars = outerTree, outerVars }()
	return c.walk(tree.Root, dot)
}

func (c *checker) fail(n tparse.Node, format string, args ...any) error {
	te := &TemplateError{Name: c.name, Reason: fmt.Sprintf(format, args...)}
	if c.tree != nil && n != nil {
		loc, _ := c.tree.ErrorContext(n) // "name:line:col"
		if parts := strings.Split(loc, ":"); len(parts) >= 3 {
			te.Line, _ = strconv.Atoi(parts[len(parts)-2])
		}
	}
	return te
}

func (c *checker) walk(n tparse.Node, dot reflect.Type) error {
	switch n := n.(type) {
	case nil, *tparse.TextNode, *tparse.CommentNode, *tparse.BreakNode, *tparse.ContinueNode:
		return nil
	case *tparse.ListNode:
		if n == nil {
			return nil
		}
		for _, child := range n.Nodes {
			if err := c.walk(child, dot); err != nil {
				return err
			}
		}
		return nil
	case *tparse.ActionNode:
		_, err := c.pipe(n.Pipe, dot) // declared variables stay in scope to the end of the block
		return err
	case *tparse.IfNode:
		return c.branch(&n.BranchNode, dot, func(reflect.Type) reflect.Type { return dot }, false)
	case *tparse.WithNode:
		return c.branch(&n.BranchNode, dot, func(t reflect.Type) reflect.Type { return t }, false)
	case *tparse.RangeNode:
		return c.branch(&n.BranchNode, dot, elemOf, true)
	case *tparse.TemplateNode:
		typ := dot
		if n.Pipe != nil {
			var err error
			if typ, err = c.pipe(n.Pipe, dot); err != nil {
				return err
			}
		} else {
			typ = nil // {{template "x"}} passes nil data
		}
		sub := c.tmpl.Lookup(n.Name)
		if sub == nil || sub.Tree == nil {
			return c.fail(n, "no template named %q", n.Name)
		}
		key := n.Name + "\x00" + fmt.Sprint(typ)
		if c.walking[key] {
			return nil // recursion: already being checked with this type
		}
		c.walking[key] = true
		defer delete(c.walking, key)
		return c.walkTree(sub.Tree, typ)
	}
	return c.fail(n, "unsupported template construct %s", n)
}

// branch checks if/with/range: the pipeline, then the body with dot as inner gives it, then the
// else branch with the outer dot. Variables declared in the pipeline live until {{end}}.
func (c *checker) branch(b *tparse.BranchNode, dot reflect.Type, inner func(reflect.Type) reflect.Type, isRange bool) error {
	scope := len(c.vars)
	defer func() { c.vars = c.vars[:scope] }()
	var typ reflect.Type
	var err error
	if isRange {
		typ, err = c.rangePipe(b.Pipe, dot)
	} else {
		typ, err = c.pipe(b.Pipe, dot)
	}
	if err != nil {
		return err
	}
	if err := c.walk(b.List, inner(typ)); err != nil {
		return err
	}
	return c.walk(b.ElseList, dot)
}

// rangePipe checks a range pipeline and declares its variables: one gets the element, two get
// the key (or index) and the element.
func (c *checker) rangePipe(p *tparse.PipeNode, dot reflect.Type) (reflect.Type, error) {
	typ, err := c.cmds(p, dot)
	if err != nil {
		return nil, err
	}
	if typ != nil {
		switch indirect(typ).Kind() {
		case reflect.Slice, reflect.Array, reflect.Map, reflect.Chan, reflect.Int, reflect.Interface,
			reflect.Func, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Uint32:
		default:
			return nil, c.fail(p, "range can't iterate over %s", typ)
		}
	}
	switch len(p.Decl) {
	case 1:
		c.vars = append(c.vars, variable{p.Decl[0].Ident[0], elemOf(typ)})
	case 2:
		c.vars = append(c.vars, variable{p.Decl[0].Ident[0], keyOf(typ)}, variable{p.Decl[1].Ident[0], elemOf(typ)})
	}
	return typ, nil
}

// pipe checks a pipeline, declares or assigns its variables, and returns its result type.
func (c *checker) pipe(p *tparse.PipeNode, dot reflect.Type) (reflect.Type, error) {
	if p == nil {
		return dot, nil
	}
	typ, err := c.cmds(p, dot)
	if err != nil {
		return nil, err
	}
	for _, v := range p.Decl {
		if p.IsAssign {
			continue // $x = …: the variable keeps its declared type as far as the check goes
		}
		c.vars = append(c.vars, variable{v.Ident[0], typ})
	}
	return typ, nil
}

func (c *checker) cmds(p *tparse.PipeNode, dot reflect.Type) (reflect.Type, error) {
	var typ reflect.Type
	for _, cmd := range p.Cmds {
		var err error
		if typ, err = c.command(cmd, dot); err != nil {
			return nil, err
		}
	}
	return typ, nil
}

// command checks one command's arguments and returns the type of its result.
func (c *checker) command(cmd *tparse.CommandNode, dot reflect.Type) (reflect.Type, error) {
	args := make([]reflect.Type, len(cmd.Args))
	for i, arg := range cmd.Args[1:] {
		var err error
		if args[i+1], err = c.arg(arg, dot); err != nil {
			return nil, err
		}
	}
	if id, ok := cmd.Args[0].(*tparse.IdentifierNode); ok {
		if id.Ident == "index" && len(args) > 1 {
			// index x 1 2 is x[1][2]: the element type, so fields of .Chunks[0] are checked too.
			typ := args[1]
			for range args[2:] {
				typ = elemOf(typ)
			}
			return typ, nil
		}
		return funcResult(id.Ident), nil
	}
	return c.arg(cmd.Args[0], dot)
}

func (c *checker) arg(n tparse.Node, dot reflect.Type) (reflect.Type, error) {
	switch n := n.(type) {
	case *tparse.DotNode:
		return dot, nil
	case *tparse.FieldNode:
		return c.fields(n, dot, n.Ident)
	case *tparse.VariableNode:
		v, ok := c.lookup(n.Ident[0])
		if !ok {
			return nil, c.fail(n, "undefined variable %s", n.Ident[0])
		}
		return c.fields(n, v, n.Ident[1:])
	case *tparse.ChainNode:
		typ, err := c.arg(n.Node, dot)
		if err != nil {
			return nil, err
		}
		return c.fields(n, typ, n.Field)
	case *tparse.PipeNode:
		scope := len(c.vars)
		defer func() { c.vars = c.vars[:scope] }()
		return c.pipe(n, dot)
	case *tparse.IdentifierNode:
		return funcResult(n.Ident), nil
	case *tparse.StringNode:
		return reflect.TypeFor[string](), nil
	case *tparse.BoolNode:
		return reflect.TypeFor[bool](), nil
	}
	return nil, nil // numbers, nil: any type they are used as
}

func (c *checker) lookup(name string) (reflect.Type, bool) {
	for i := len(c.vars) - 1; i >= 0; i-- {
		if c.vars[i].name == name {
			return c.vars[i].typ, true
		}
	}
	return nil, false
}

// fields follows a .A.B chain from typ, refusing a name the type does not have.
func (c *checker) fields(n tparse.Node, typ reflect.Type, chain []string) (reflect.Type, error) {
	for _, f := range chain {
		if typ == nil {
			return nil, nil
		}
		next, err := field(typ, f)
		if err != nil {
			return nil, c.fail(n, "%v", err)
		}
		typ = next
	}
	return typ, nil
}

// field is the type of .name on typ as text/template resolves it: a method, a struct field, or
// a map key. nil: not known statically.
func field(typ reflect.Type, name string) (reflect.Type, error) {
	if m, ok := reflect.PointerTo(indirect(typ)).MethodByName(name); ok && m.Type.NumOut() > 0 {
		return m.Type.Out(0), nil
	}
	t := indirect(typ)
	switch t.Kind() {
	case reflect.Interface:
		return nil, nil
	case reflect.Struct:
		if sf, ok := t.FieldByName(name); ok && sf.IsExported() {
			return sf.Type, nil
		}
		return nil, fmt.Errorf("%s has no field %s%s", typeName(t), name, fieldHint(t))
	case reflect.Map:
		if t.Key().Kind() == reflect.String {
			return t.Elem(), nil
		}
	}
	return nil, fmt.Errorf("can't use field %s on %s", name, typeName(t))
}

// fieldHint lists the fields a template may use, so the refusal says what would work.
func fieldHint(t reflect.Type) string {
	var names []string
	for i := range t.NumField() {
		if f := t.Field(i); f.IsExported() {
			names = append(names, "."+f.Name)
		}
	}
	if len(names) == 0 {
		return " (it has no fields)"
	}
	return " (it has " + strings.Join(names, ", ") + ")"
}

func typeName(t reflect.Type) string {
	if t.Name() != "" {
		return t.Name()
	}
	return t.String()
}

func indirect(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

func elemOf(t reflect.Type) reflect.Type {
	if t = indirect(t); t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Slice, reflect.Array, reflect.Map, reflect.Chan:
		return t.Elem()
	case reflect.Int, reflect.Int64, reflect.Int32, reflect.Uint, reflect.Uint64, reflect.Uint32:
		return t
	}
	return nil
}

func keyOf(t reflect.Type) reflect.Type {
	if t = indirect(t); t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Map:
		return t.Key()
	case reflect.Slice, reflect.Array:
		return reflect.TypeFor[int]()
	}
	return nil
}

// funcResult is the result type of a template function; nil when it depends on the arguments
// (and, or, index, call, …). Unknown functions never get here: the parser refuses them.
func funcResult(name string) reflect.Type {
	if f, ok := funcs[name]; ok {
		if ft := reflect.TypeOf(f); ft.NumOut() > 0 {
			return ft.Out(0)
		}
		return nil
	}
	switch name {
	case "not", "eq", "ne", "lt", "le", "gt", "ge":
		return reflect.TypeFor[bool]()
	case "len":
		return reflect.TypeFor[int]()
	case "print", "printf", "println", "html", "js", "urlquery":
		return reflect.TypeFor[string]()
	}
	return nil
}

// IsTemplateError reports whether err is a refused template body, returning it.
func IsTemplateError(err error) (*TemplateError, bool) {
	var te *TemplateError
	ok := errors.As(err, &te)
	return te, ok
}

func reflectNew(t reflect.Type) any { return reflect.New(t).Interface() }

func derefValue(p any) any { return reflect.ValueOf(p).Elem().Interface() }
