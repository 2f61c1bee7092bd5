// Package ratelimit implements a token bucket limiter and an HTTP middleware using it.
package ratelimit

import (
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// ErrInvalidRate is returned for a non-positive rate or burst.
var ErrInvalidRate = errors.New("ratelimit: rate and burst must be positive")

// Bucket is a token bucket refilled continuously at Rate tokens per second.
type Bucket struct {
	mu       sync.Mutex
	rate     float64
	burst    float64
	tokens   float64
	lastSeen time.Time
	now      func() time.Time
}

// NewBucket returns a full bucket.
func NewBucket(rate float64, burst int) (*Bucket, error) {
	if rate <= 0 || burst <= 0 {
		return nil, ErrInvalidRate
	}
	b := &Bucket{rate: rate, burst: float64(burst), tokens: float64(burst), now: time.Now}
	b.lastSeen = b.now()
	return b, nil
}

func (b *Bucket) refill() {
	now := b.now()
	elapsed := now.Sub(b.lastSeen).Seconds()
	if elapsed > 0 {
		b.tokens += elapsed * b.rate
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
		b.lastSeen = now
	}
}

// Allow takes one token if available.
func (b *Bucket) Allow() bool {
	return b.AllowN(1)
}

// AllowN takes n tokens if available.
func (b *Bucket) AllowN(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	if b.tokens < float64(n) {
		return false
	}
	b.tokens -= float64(n)
	return true
}

// RetryAfter says how long until n tokens are available.
func (b *Bucket) RetryAfter(n int) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refill()
	missing := float64(n) - b.tokens
	if missing <= 0 {
		return 0
	}
	return time.Duration(missing / b.rate * float64(time.Second))
}

// Limiter keeps one bucket per client key.
type Limiter struct {
	mu      sync.Mutex
	rate    float64
	burst   int
	buckets map[string]*Bucket
}

// NewLimiter returns a limiter handing out buckets with the given rate and burst.
func NewLimiter(rate float64, burst int) (*Limiter, error) {
	if rate <= 0 || burst <= 0 {
		return nil, ErrInvalidRate
	}
	return &Limiter{rate: rate, burst: burst, buckets: make(map[string]*Bucket)}, nil
}

func (l *Limiter) bucket(key string) *Bucket {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		b, _ = NewBucket(l.rate, l.burst)
		l.buckets[key] = b
	}
	return b
}

func clientKey(r *http.Request) string {
	if forwarded := r.Header.Get("X-Forwarded-For"); forwarded != "" {
		return forwarded
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// Middleware rejects requests over the limit with 429 and a Retry-After header.
func (l *Limiter) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b := l.bucket(clientKey(r))
		if !b.Allow() {
			wait := b.RetryAfter(1)
			seconds := int(wait/time.Second) + 1
			w.Header().Set("Retry-After", strconv.Itoa(seconds))
			http.Error(w, "too many requests", http.StatusTooManyRequests)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// Prune drops buckets that are full again, so idle clients do not pile up.
func (l *Limiter) Prune() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	removed := 0
	for key, b := range l.buckets {
		b.mu.Lock()
		b.refill()
		full := b.tokens >= b.burst
		b.mu.Unlock()
		if full {
			delete(l.buckets, key)
			removed++
		}
	}
	return removed
}
