// Package clip shortens text to a size limit without splitting a UTF-8
// sequence. It is the one place tend cuts strings: titles, check-run
// output, tool results and traces all go through Text.
package clip
