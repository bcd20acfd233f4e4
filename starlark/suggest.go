package starlark

import (
	"strings"

	"go.starlark.net/starlark"
)

// suggestName returns the predeclared or universal name closest to an
// undefined one, or "" when none is close enough to be a typo.
func suggestName(name string) string {
	var candidates []string
	for n := range predeclared(&state{params: starlark.NewDict(0)}) {
		candidates = append(candidates, n)
	}
	for n := range starlark.Universe {
		candidates = append(candidates, n)
	}
	return closest(name, candidates)
}

// DidYouMean returns " (did you mean X?)" when one of candidates is close
// enough to name to be what was meant (a typo, or the start of it), else "".
// Every "no such name" message about a user's names uses it.
func DidYouMean(name string, candidates []string) string {
	if c := closest(name, candidates); c != "" && c != name {
		return " (did you mean " + c + "?)"
	}
	var prefixed []string
	for _, c := range candidates {
		if name != "" && c != name && strings.HasPrefix(c, name) {
			prefixed = append(prefixed, c)
		}
	}
	if len(prefixed) == 1 {
		return " (did you mean " + prefixed[0] + "?)"
	}
	return ""
}

// closest returns the candidate at the smallest edit distance from name,
// or "" when none is within two edits (and half of name's length).
func closest(name string, candidates []string) string {
	best, bestDist := "", len(name)/2+1
	for _, c := range candidates {
		if d := editDistance(strings.ToLower(name), strings.ToLower(c)); d < bestDist || (d == bestDist && c < best) {
			best, bestDist = c, d
		}
	}
	if bestDist > 2 {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
