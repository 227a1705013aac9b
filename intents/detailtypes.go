package intents

// Detail types the extractor knows. Intents name them in RequiredDetails.
const (
	DetailEmail       = "email"
	DetailPhone       = "phone"
	DetailOrderNumber = "order_number"
	DetailDate        = "date"
	DetailTime        = "time"
	DetailMoney       = "money"
	DetailName        = "name"
	DetailPeople      = "people" // party size, e.g. "a table for 4"
)

// Re-ask prompt template names (package prompts holds the texts), one per detail type.
const (
	ReaskEmail       = "reask_email"
	ReaskPhone       = "reask_phone"
	ReaskOrderNumber = "reask_order_number"
	ReaskDate        = "reask_date"
	ReaskMoney       = "reask_money"
	ReaskName        = "reask_name"
)

var reask = map[string]string{
	DetailEmail:       ReaskEmail,
	DetailPhone:       ReaskPhone,
	DetailOrderNumber: ReaskOrderNumber,
	DetailDate:        ReaskDate,
	DetailTime:        ReaskDate, // dates and times share one re-ask ("when exactly?")
	DetailMoney:       ReaskMoney,
	DetailName:        ReaskName,
}

// ReaskTemplate returns the prompt template that asks again for a detail of type t, or "".
func ReaskTemplate(t string) string { return reask[t] }

// KnownDetail reports whether t is a detail type the extractor understands.
func KnownDetail(t string) bool {
	switch t {
	case DetailEmail, DetailPhone, DetailOrderNumber, DetailDate, DetailTime, DetailMoney, DetailName, DetailPeople:
		return true
	}
	return false
}
