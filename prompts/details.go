package prompts

// DetailTemplate returns the template that asks for a detail of type detailType (reask: asks
// again after a missing or invalid answer). Built-in types have their own templates (ask_email,
// reask_email, …); any other type gets the generic ask_detail or reask_detail, which name the
// detail by ReaskInput.Label, so a required detail never renders an empty reply. Custom detail
// types usually bring their own texts (intents.DetailType.Ask and Reask); this is the fallback.
func DetailTemplate(detailType string, reask bool) Name {
	prefix, generic := "ask_", AskDetail
	if reask {
		prefix, generic = "reask_", ReaskDetail
	}
	if n := Name(prefix + detailType); detailType != "" && detailType != "detail" && Default().has(n) {
		return n
	}
	return generic
}

func (s *Set) has(name Name) bool {
	_, ok := s.tmpls[name]
	return ok
}
