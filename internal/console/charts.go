package console

import (
	"encoding/json"
	"fmt"
	"html"
	"math"
	"net/http"
	"net/url"
	"strings"

	"github.com/batonhq/baton"
	"github.com/batonhq/baton/internal/web"
)

// statsDay is one day of GET /v1/stats, read loosely: the charts show what is there.
type statsDay struct {
	Day                       string         `json:"day"`
	Conversations             float64        `json:"conversations"`
	FirstResponseBotSeconds   *float64       `json:"first_response_bot_seconds"`
	FirstResponseHumanSeconds *float64       `json:"first_response_human_seconds"`
	BotResolvedConfirmed      float64        `json:"bot_resolved_confirmed"`
	BotResolvedAssumed        float64        `json:"bot_resolved_assumed"`
	Handoffs                  map[string]int `json:"handoffs"`
	HandoffRate               *float64       `json:"handoff_rate"`
	QueueWaitSeconds          *float64       `json:"queue_wait_seconds"`
	CSATBot                   *float64       `json:"csat_bot"`
	CSATHuman                 *float64       `json:"csat_human"`
}

// series is one named line or bar stack of a chart; nil values are days without data.
type series struct {
	Name   string
	Values []*float64
}

// chart is a daily chart: lines, or stacked bars.
type chart struct {
	Title   string
	Unit    string
	Stacked bool
	Days    []string
	Series  []series
}

var palette = []string{"#1f5fbf", "#d9534f", "#2e8b57", "#e0a800", "#6f42c1", "#17a2b8", "#8c564b"}

func ptr(f float64) *float64 { return &f }

// charts builds the dashboard's charts from the daily stats.
func charts(days []statsDay) map[string]chart {
	labels := make([]string, len(days))
	pick := func(f func(d statsDay) *float64) []*float64 {
		out := make([]*float64, len(days))
		for i, d := range days {
			out[i] = f(d)
		}
		return out
	}
	for i, d := range days {
		labels[i] = d.Day
	}
	minutes := func(v *float64) *float64 {
		if v == nil {
			return nil
		}
		return ptr(*v / 60)
	}
	percent := func(v *float64) *float64 {
		if v == nil {
			return nil
		}
		return ptr(*v * 100)
	}
	reasons := map[string]bool{}
	for _, d := range days {
		for r := range d.Handoffs {
			reasons[r] = true
		}
	}
	var byReason []series
	for _, r := range []string{"customer_request", "negative_sentiment", "missing_knowledge", "unsupported_request", "failed_gathering", "policy", "error"} {
		if reasons[r] {
			byReason = append(byReason, series{strings.ReplaceAll(r, "_", " "), pick(func(d statsDay) *float64 { return ptr(float64(d.Handoffs[r])) })})
		}
	}
	return map[string]chart{
		"conversations": {Title: "Conversations per day", Stacked: true, Days: labels,
			Series: []series{{"conversations", pick(func(d statsDay) *float64 { return ptr(d.Conversations) })}}},
		"resolution": {Title: "Bot resolution rate", Unit: "%", Days: labels, Series: []series{
			{"confirmed + assumed", pick(func(d statsDay) *float64 {
				if d.Conversations == 0 {
					return nil
				}
				return ptr(100 * (d.BotResolvedConfirmed + d.BotResolvedAssumed) / d.Conversations)
			})},
			{"handoff rate", pick(func(d statsDay) *float64 { return percent(d.HandoffRate) })}}},
		"handoffs": {Title: "Handoffs by reason", Stacked: true, Days: labels, Series: byReason},
		"first-response": {Title: "Time to first response", Unit: "min", Days: labels, Series: []series{
			{"bot", pick(func(d statsDay) *float64 { return minutes(d.FirstResponseBotSeconds) })},
			{"human", pick(func(d statsDay) *float64 { return minutes(d.FirstResponseHumanSeconds) })}}},
		"queue-wait": {Title: "Queue wait", Unit: "min", Days: labels,
			Series: []series{{"queue wait", pick(func(d statsDay) *float64 { return minutes(d.QueueWaitSeconds) })}}},
		"csat": {Title: "CSAT, bot vs human (1–5)", Days: labels, Series: []series{
			{"bot", pick(func(d statsDay) *float64 { return d.CSATBot })},
			{"human", pick(func(d statsDay) *float64 { return d.CSATHuman })}}},
	}
}

func num(v float64) string {
	if math.Abs(v-math.Round(v)) < 0.05 {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

// svg draws c with every value written next to its point or bar, so it reads without hovering.
func (c chart) svg() string {
	const w, h, left, right, top, bottom = 720.0, 260.0, 48.0, 12.0, 44.0, 40.0
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" font-family="system-ui, sans-serif" font-size="11">`, w, h, w, h)
	fmt.Fprintf(&b, `<title>%s</title><rect width="100%%" height="100%%" fill="#fff"/>`, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<text x="%.0f" y="18" font-size="14" font-weight="600">%s</text>`, left, html.EscapeString(c.Title+unitSuffix(c.Unit)))
	for i, s := range c.Series { // legend
		x := left + float64(i)*170
		fmt.Fprintf(&b, `<rect x="%.0f" y="26" width="10" height="10" fill="%s"/><text x="%.0f" y="35">%s</text>`, x, palette[i%len(palette)], x+14, html.EscapeString(s.Name))
	}
	n := len(c.Days)
	maxV := 0.0
	for i := 0; i < n; i++ {
		sum := 0.0
		for _, s := range c.Series {
			if v := s.Values[i]; v != nil {
				if c.Stacked {
					sum += *v
				} else {
					maxV = math.Max(maxV, *v)
				}
			}
		}
		maxV = math.Max(maxV, sum)
	}
	if n == 0 || len(c.Series) == 0 || maxV == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" fill="#5b6673">No data in this range.</text></svg>`, left, h/2)
		return b.String()
	}
	plotW, plotH := w-left-right, h-top-bottom
	y := func(v float64) float64 { return top + plotH - v/maxV*plotH }
	fmt.Fprintf(&b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" stroke="#d8dde3"/>`, left, y(0), w-right, y(0))
	fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end" fill="#5b6673">%s</text><text x="%.0f" y="%.1f" text-anchor="end" fill="#5b6673">0</text>`,
		left-4, y(maxV)+4, num(maxV), left-4, y(0)+4)
	step := plotW / float64(n)
	every := int(math.Ceil(float64(n) / 12)) // at most 12 day labels
	for i, d := range c.Days {
		if i%every == 0 {
			fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle" fill="#5b6673">%s</text>`, left+step*(float64(i)+0.5), h-bottom+16, html.EscapeString(d[min(len(d), 5):]))
		}
	}
	showValues := n <= 31
	if c.Stacked {
		bw := math.Max(2, step*0.7)
		for i := 0; i < n; i++ {
			base := 0.0
			for si, s := range c.Series {
				v := s.Values[i]
				if v == nil || *v == 0 {
					continue
				}
				x := left + step*float64(i) + (step-bw)/2
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%s"/>`, x, y(base+*v), bw, y(base)-y(base+*v), palette[si%len(palette)])
				base += *v
			}
			if showValues && base > 0 {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, left+step*(float64(i)+0.5), y(base)-3, num(base))
			}
		}
	} else {
		for si, s := range c.Series {
			color := palette[si%len(palette)]
			var path []string
			for i, v := range s.Values {
				if v == nil {
					continue
				}
				x := left + step*(float64(i)+0.5)
				path = append(path, fmt.Sprintf("%.1f,%.1f", x, y(*v)))
				fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="3" fill="%s"/>`, x, y(*v), color)
				if showValues {
					fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle" fill="%s">%s</text>`, x, y(*v)-6-float64(si)*10, color, num(*v))
				}
			}
			if len(path) > 1 {
				fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"/>`, strings.Join(path, " "), color)
			}
		}
	}
	b.WriteString(`</svg>`)
	return b.String()
}

func unitSuffix(u string) string {
	if u == "" {
		return ""
	}
	return " (" + u + ")"
}

// bodyRecorder captures an in-process response of the server's own API.
type bodyRecorder struct {
	header http.Header
	status int
	body   strings.Builder
}

func (r *bodyRecorder) Header() http.Header { return r.header }
func (r *bodyRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(p)
}
func (r *bodyRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}

// mountCharts serves GET /console/charts/{name} (admins): an SVG chart of GET /v1/stats, read
// in process through the server's own handler with the caller's credentials, so the charts
// show exactly what the API says and need no store of their own.
func mountCharts(s *web.Server) {
	s.Handle("GET /console/charts/{name}", web.Admin, 0, func(w http.ResponseWriter, r *http.Request) error {
		name := strings.TrimSuffix(r.PathValue("name"), ".svg")
		q := url.Values{}
		for _, k := range []string{"from", "to"} {
			if v := r.URL.Query().Get(k); v != "" {
				q.Set(k, v)
			}
		}
		inner, err := http.NewRequestWithContext(r.Context(), http.MethodGet, "/v1/stats?"+q.Encode(), nil)
		if err != nil {
			return err
		}
		for _, k := range []string{"Authorization", "Cookie"} {
			if v := r.Header.Get(k); v != "" {
				inner.Header.Set(k, v)
			}
		}
		rec := &bodyRecorder{header: http.Header{}}
		s.Handler().ServeHTTP(rec, inner)
		var out string
		switch rec.status {
		case http.StatusOK:
			var stats struct {
				Days []statsDay `json:"days"`
			}
			if err := json.Unmarshal([]byte(rec.body.String()), &stats); err != nil {
				return fmt.Errorf("decode /v1/stats: %w", err)
			}
			c, ok := charts(stats.Days)[name]
			if !ok {
				return baton.Errorf(baton.ErrNotFound, "not_found", "no chart %s", name)
			}
			out = c.svg()
		case http.StatusNotFound:
			out = chart{Title: "No statistics: this server has no /v1/stats"}.svg()
		default:
			var e web.ErrorBody
			_ = json.Unmarshal([]byte(rec.body.String()), &e)
			return baton.Errorf(baton.ErrInvalid, "stats", "statistics: %s", e.Error.Message)
		}
		w.Header().Set("Content-Type", "image/svg+xml")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, err = w.Write([]byte(out))
		return err
	})
}
