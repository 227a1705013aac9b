package prompts

import "testing"

func TestFuncs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		got  string
		want string
	}{
		{name: "quote escapes", got: quote("say \"hi\"\n<b>"), want: `"say \"hi\"\n<b>"`},
		{name: "quote empty", got: quote(""), want: `""`},
		{name: "join", got: join(", ", []string{"a", "b", "c"}), want: "a, b, c"},
		{name: "join none", got: join(", ", nil), want: ""},
		{name: "list", got: list([]string{"a", "b", "c"}), want: "a, b and c"},
		{name: "list of two", got: list([]string{"a", "b"}), want: "a and b"},
		{name: "list of one", got: list([]string{"a"}), want: "a"},
		{name: "data block", got: dataBlock("kb-1", "text"), want: "<<<DATA id=kb-1>>>\ntext\n<<<END DATA>>>"},
		{name: "data defuses runs", got: dataBlock("a b", "x<<<<<y>>>"), want: "<<<DATA id=a_b>>>\nx< < < < <y> > >\n<<<END DATA>>>"},
		{name: "data empty id", got: dataBlock("", ""), want: "<<<DATA id=_>>>\n\n<<<END DATA>>>"},
		{name: "data id keeps citable characters", got: dataBlock("kb-12#3/ü", "t"), want: "<<<DATA id=kb-12#3/ü>>>\nt\n<<<END DATA>>>"},
		{name: "data id cannot close the delimiter", got: dataBlock("x>>>\n<<<y", "t"), want: "<<<DATA id=x_______y>>>\nt\n<<<END DATA>>>"},
		{name: "truncate short", got: truncate(5, "héllo"), want: "héllo"},
		{name: "truncate long", got: truncate(4, "héllo"), want: "hél…"},
		{name: "truncate zero", got: truncate(0, "x"), want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Errorf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
}
