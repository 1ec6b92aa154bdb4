package dynamodb

import (
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// item is one DynamoDB item. Attributes are read and written by hand with
// the helpers below rather than by reflection, so that the stored shape
// (the recipe's, see doc.go) is visible where it is written.
type item = map[string]types.AttributeValue

// timeLayout writes times as the recipe's resolvers do ($util.time.
// nowISO8601: ISO 8601 in UTC), at millisecond precision and fixed width,
// so that string order is time order (the MessagesByTime sort key).
const timeLayout = "2006-01-02T15:04:05.000Z"

func avS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func avN(v int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(v, 10)}
}
func avB(v bool) types.AttributeValue { return &types.AttributeValueMemberBOOL{Value: v} }
func avT(t time.Time) types.AttributeValue {
	return avS(t.UTC().Truncate(time.Millisecond).Format(timeLayout))
}

func avList(ss []string) types.AttributeValue {
	l := make([]types.AttributeValue, len(ss))
	for i, s := range ss {
		l[i] = avS(s)
	}
	return &types.AttributeValueMemberL{Value: l}
}

func avNS(ns []int64) types.AttributeValue {
	v := make([]string, len(ns))
	for i, n := range ns {
		v[i] = strconv.FormatInt(n, 10)
	}
	return &types.AttributeValueMemberNS{Value: v}
}

// getNS reads a number set (nil when absent).
func getNS(it item, k string) []int64 {
	v, ok := it[k].(*types.AttributeValueMemberNS)
	if !ok {
		return nil
	}
	ns := make([]int64, 0, len(v.Value))
	for _, s := range v.Value {
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			ns = append(ns, n)
		}
	}
	return ns
}

// key returns the key of a confab-table item.
func key(pk, sk string) item { return item{"pk": avS(pk), "sk": avS(sk)} }

// putOpt sets it[k] to v when p is not nil.
func putOpt[T any](it item, k string, p *T, v func(T) types.AttributeValue) {
	if p != nil {
		it[k] = v(*p)
	}
}

func getS(it item, k string) string {
	if v, ok := it[k].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getSP(it item, k string) *string {
	if v, ok := it[k].(*types.AttributeValueMemberS); ok {
		s := v.Value
		return &s
	}
	return nil
}

func getN(it item, k string) int64 {
	if v, ok := it[k].(*types.AttributeValueMemberN); ok {
		n, err := strconv.ParseInt(v.Value, 10, 64)
		if err == nil {
			return n
		}
		// The recipe's resolvers may have written a number with a
		// fraction; keep its integer part.
		if f, err := strconv.ParseFloat(v.Value, 64); err == nil {
			return int64(f)
		}
	}
	return 0
}

func getB(it item, k string) bool {
	v, ok := it[k].(*types.AttributeValueMemberBOOL)
	return ok && v.Value
}

// getT reads a time; one that is missing or unparsable is the zero time.
func getT(it item, k string) time.Time {
	if t := getTP(it, k); t != nil {
		return *t
	}
	return time.Time{}
}

func getTP(it item, k string) *time.Time {
	s := getSP(it, k)
	if s == nil {
		return nil
	}
	t, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		return nil
	}
	t = t.UTC().Truncate(time.Millisecond)
	return &t
}

func getList(it item, k string) []string {
	var out []string
	switch v := it[k].(type) {
	case *types.AttributeValueMemberL:
		for _, e := range v.Value {
			if s, ok := e.(*types.AttributeValueMemberS); ok {
				out = append(out, s.Value)
			}
		}
	case *types.AttributeValueMemberSS:
		out = append(out, v.Value...)
	}
	return out
}
