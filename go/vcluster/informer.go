package vcluster

import (
	"context"
	"errors"
	"iter"
	"sync"
	"time"

	"connectrpc.com/connect"
	apiv1 "github.com/open-vcluster/open-vcluster/go/gen/vcluster/api/v1"
)

// InformerOptions select what an informer caches and how it recovers.
type InformerOptions struct {
	// Namespace limits the cache to one namespace; "" caches all.
	Namespace string
	// LabelSelector limits the cache to matching vclusters.
	LabelSelector string
	// PageSize of each list page; 0 is the server's default.
	PageSize int32
	// ListBackoffInitial and ListBackoffMax bound the delay between failed lists. Defaults
	// 800 ms and 30 s.
	ListBackoffInitial, ListBackoffMax time.Duration
	// Watch tunes the watch (zero fields take the client's defaults). Its OnStatus and
	// OnBookmark are the informer's; set OnStatus here instead.
	Watch WatchOptions
	// OnStatus is called when the informer's connection status changes.
	OnStatus func(ConnectionStatus)
}

// Handler receives an informer's changes. Any field may be nil.
type Handler struct {
	OnAdd    func(vc *apiv1.VCluster)
	OnUpdate func(vc, previous *apiv1.VCluster)
	OnDelete func(vc *apiv1.VCluster)
	// OnEvent receives every change, whatever its type.
	OnEvent func(CacheEvent)
}

// Informer keeps a local, always-converging copy of the server's vclusters (client-go's
// shared informer in small): it lists, watches from the version the first page was read at,
// and when that version has expired it lists again and hands its handlers exactly the changes
// they missed. Read it with Get and List; react with AddHandler. Run drives it.
type Informer struct {
	client  *Client
	options InformerOptions

	mu       sync.RWMutex
	store    *cacheStore
	handlers map[int]Handler
	nextID   int
	status   ConnectionStatus

	syncOnce sync.Once
	synced   chan struct{}
	doneOnce sync.Once
	done     chan struct{}
	failure  error
	running  sync.Mutex
}

// NewInformer returns an informer; start it with Run.
func (c *Client) NewInformer(opts InformerOptions) *Informer {
	if opts.ListBackoffInitial <= 0 {
		opts.ListBackoffInitial = DefaultWatchBackoffInitial
	}
	if opts.ListBackoffMax <= 0 {
		opts.ListBackoffMax = DefaultWatchBackoffMax
	}
	return &Informer{
		client:   c,
		options:  opts,
		store:    newCacheStore(),
		handlers: map[int]Handler{},
		synced:   make(chan struct{}),
		done:     make(chan struct{}),
	}
}

// HasSynced reports whether the first full list has been applied.
func (i *Informer) HasSynced() bool {
	select {
	case <-i.synced:
		return true
	default:
		return false
	}
}

// WaitForSync blocks until the first list has been applied; it fails when the informer
// stops first or ctx is done.
func (i *Informer) WaitForSync(ctx context.Context) error {
	select {
	case <-i.synced:
		return nil
	case <-i.done:
		if i.HasSynced() {
			return nil
		}
		return i.failure
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Status is the connection status of the informer's watch.
func (i *Informer) Status() ConnectionStatus {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.status
}

// Get returns the cached vcluster namespace/name.
func (i *Informer) Get(namespace, name string) (*apiv1.VCluster, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	vc := i.store.get(namespace, name)
	return vc, vc != nil
}

// GetByID returns the cached vcluster with that id.
func (i *Informer) GetByID(id string) (*apiv1.VCluster, bool) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	e, ok := i.store.byID[id]
	return e.vcluster, ok
}

// List returns every cached vcluster. The objects are shared: do not modify them.
func (i *Informer) List() []*apiv1.VCluster {
	i.mu.RLock()
	defer i.mu.RUnlock()
	return i.store.list()
}

// AddHandler registers h for every change from now on and returns a function that removes it.
// Handlers run one at a time on Run's goroutine, in the order of the changes.
func (i *Informer) AddHandler(h Handler) (remove func()) {
	i.mu.Lock()
	defer i.mu.Unlock()
	id := i.nextID
	i.nextID++
	i.handlers[id] = h
	return func() {
		i.mu.Lock()
		defer i.mu.Unlock()
		delete(i.handlers, id)
	}
}

// Run lists and watches until ctx is done (it then returns ctx.Err()) or an error retrying
// cannot fix (it returns that error). An informer runs once.
func (i *Informer) Run(ctx context.Context) error {
	if !i.running.TryLock() {
		return errors.New("vcluster: informer is already running")
	}
	err := i.run(ctx)
	i.failure = err
	i.setStatus(StatusClosed)
	i.doneOnce.Do(func() { close(i.done) })
	return err
}

type watchOutcome int

const (
	watchExpired watchOutcome = iota
	// watchExpiredAtOnce: the version expired straight after a list, so the server's
	// history is shorter than a list takes; list-then-watch cannot catch up.
	watchExpiredAtOnce
)

func (i *Informer) run(ctx context.Context) error {
	listBackoff := backoff{initial: i.options.ListBackoffInitial, max: i.options.ListBackoffMax, random: i.client.random}
	fullResync := false
	for {
		start := ""
		if !fullResync {
			version, err := i.list(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				if endsWatch(err) {
					return err
				}
				if sleepContext(ctx, listBackoff.next()) != nil {
					return ctx.Err()
				}
				continue
			}
			listBackoff.reset()
			start = version
		}
		outcome, err := i.watch(ctx, start, fullResync)
		if err != nil {
			return err
		}
		fullResync = outcome == watchExpiredAtOnce
	}
}

// list reads every page and returns the version to watch from: the first page's read
// version (every change later pages may not show has a greater version, so the watch replays
// it and the store drops what it already has), or the newest object on the first page from
// servers that do not send one.
func (i *Informer) list(ctx context.Context) (string, error) {
	req := &apiv1.ListVClustersRequest{Namespace: i.options.Namespace, LabelSelector: i.options.LabelSelector, PageSize: i.options.PageSize}
	var all []*apiv1.VCluster
	start, first := "", true
	for page, err := range i.client.VClusterPages(ctx, req) {
		if err != nil {
			return "", err
		}
		if first {
			first = false
			start = page.ResourceVersion
			if start == "" {
				for _, vc := range page.Items {
					start = newerVersion(start, ResourceVersionOf(vc))
				}
			}
		}
		all = append(all, page.Items...)
	}
	i.mu.Lock()
	changes := i.store.replace(all)
	i.mu.Unlock()
	i.emit(changes)
	i.markSynced()
	return start, nil
}

// watch follows changes from start. In a full resync (a watch from "", which first sends the
// whole state as ADDED) the first heartbeat marks the end of that state: every cached
// object the stream did not mention is gone.
func (i *Informer) watch(ctx context.Context, start string, fullResync bool) (watchOutcome, error) {
	mentioned := map[string]bool{}
	resyncing := fullResync
	delivered, reconnected := false, false
	opts := i.options.Watch
	opts.OnStatus = func(s ConnectionStatus, _ error) {
		if s == StatusReconnecting {
			reconnected = true
		}
		// One watch closing is not the informer closing: it lists again.
		if s != StatusClosed {
			i.setStatus(s)
		}
	}
	opts.OnBookmark = func(string) {
		if !resyncing {
			return
		}
		resyncing = false
		i.mu.Lock()
		changes := i.store.retainOnly(mentioned)
		i.mu.Unlock()
		i.emit(changes)
		i.markSynced()
	}
	w := i.client.Watch(&apiv1.WatchVClusterRequest{
		Namespace:       i.options.Namespace,
		LabelSelector:   i.options.LabelSelector,
		ResourceVersion: start,
	}, opts)
	for ev, err := range w.Events(ctx) {
		if err != nil {
			if IsResourceVersionExpired(err) {
				if delivered || reconnected || fullResync {
					return watchExpired, nil
				}
				return watchExpiredAtOnce, nil
			}
			return 0, err
		}
		delivered = true
		if resyncing {
			mentioned[ev.VCluster.GetId()] = true
		}
		i.mu.Lock()
		change, ok := i.store.apply(ev)
		i.mu.Unlock()
		if ok {
			i.emit([]CacheEvent{change})
		}
	}
	if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	return 0, connect.NewError(connect.CodeInternal, errors.New("watch ended unexpectedly"))
}

func (i *Informer) emit(changes []CacheEvent) {
	if len(changes) == 0 {
		return
	}
	i.mu.RLock()
	handlers := make([]Handler, 0, len(i.handlers))
	for id := 0; id < i.nextID; id++ {
		if h, ok := i.handlers[id]; ok {
			handlers = append(handlers, h)
		}
	}
	i.mu.RUnlock()
	for _, c := range changes {
		for _, h := range handlers {
			h.dispatch(c)
		}
	}
}

func (h Handler) dispatch(c CacheEvent) {
	if h.OnEvent != nil {
		h.OnEvent(c)
	}
	switch c.Type {
	case apiv1.WatchEventType_WATCH_EVENT_TYPE_ADDED:
		if h.OnAdd != nil {
			h.OnAdd(c.VCluster)
		}
	case apiv1.WatchEventType_WATCH_EVENT_TYPE_MODIFIED:
		if h.OnUpdate != nil {
			h.OnUpdate(c.VCluster, c.Previous)
		}
	case apiv1.WatchEventType_WATCH_EVENT_TYPE_DELETED:
		if h.OnDelete != nil {
			h.OnDelete(c.VCluster)
		}
	}
}

func (i *Informer) markSynced() { i.syncOnce.Do(func() { close(i.synced) }) }

func (i *Informer) setStatus(s ConnectionStatus) {
	i.mu.Lock()
	changed := i.status != s
	i.status = s
	i.mu.Unlock()
	if changed && i.options.OnStatus != nil {
		i.options.OnStatus(s)
	}
}

// Events yields every change after the call, in order, until ctx is done (it then yields
// ctx.Err()) or the informer stops (it yields the informer's error). It subscribes at once, so
// no change between the call and the first iteration is lost; the queue between the informer
// and the consumer is unbounded on purpose: an informer must not drop changes. The sequence
// can be iterated once; the subscription ends with ctx or the iteration.
func (i *Informer) Events(ctx context.Context) iter.Seq2[CacheEvent, error] {
	var mu sync.Mutex
	var queue []CacheEvent
	wake := make(chan struct{}, 1)
	remove := i.AddHandler(Handler{OnEvent: func(c CacheEvent) {
		mu.Lock()
		queue = append(queue, c)
		mu.Unlock()
		select {
		case wake <- struct{}{}:
		default:
		}
	}})
	stopCleanup := context.AfterFunc(ctx, remove)
	take := func() []CacheEvent {
		mu.Lock()
		defer mu.Unlock()
		batch := queue
		queue = nil
		return batch
	}
	return func(yield func(CacheEvent, error) bool) {
		defer func() {
			stopCleanup()
			remove()
		}()
		for {
			batch := take()
			for _, c := range batch {
				if !yield(c, nil) {
					return
				}
			}
			if len(batch) > 0 {
				continue
			}
			select {
			case <-wake:
			case <-ctx.Done():
				yield(CacheEvent{}, ctx.Err())
				return
			case <-i.done:
				for _, c := range take() {
					if !yield(c, nil) {
						return
					}
				}
				yield(CacheEvent{}, i.failure)
				return
			}
		}
	}
}
