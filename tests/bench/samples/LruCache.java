package com.example.cache;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/** A least-recently-used cache with a size bound, hit statistics and an optional loader. */
public final class LruCache<K, V> {

    private static final class Node<K, V> {
        final K key;
        V value;
        Node<K, V> previous;
        Node<K, V> next;

        Node(K key, V value) {
            this.key = key;
            this.value = value;
        }
    }

    public static final class Stats {
        private long hits;
        private long misses;
        private long evictions;

        public long hits() {
            return hits;
        }

        public long misses() {
            return misses;
        }

        public long evictions() {
            return evictions;
        }

        public double hitRate() {
            long total = hits + misses;
            return total == 0 ? 0.0 : (double) hits / total;
        }

        @Override
        public String toString() {
            return String.format("Stats{hits=%d, misses=%d, evictions=%d}", hits, misses, evictions);
        }
    }

    private final int capacity;
    private final Map<K, Node<K, V>> index = new HashMap<>();
    private final Stats stats = new Stats();
    private final Function<K, V> loader;
    private Node<K, V> head;
    private Node<K, V> tail;

    public LruCache(int capacity) {
        this(capacity, null);
    }

    public LruCache(int capacity, Function<K, V> loader) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.loader = loader;
    }

    public synchronized V get(K key) {
        Objects.requireNonNull(key, "key");
        Node<K, V> node = index.get(key);
        if (node != null) {
            stats.hits++;
            moveToFront(node);
            return node.value;
        }
        stats.misses++;
        if (loader == null) {
            return null;
        }
        V value = loader.apply(key);
        if (value != null) {
            put(key, value);
        }
        return value;
    }

    public synchronized void put(K key, V value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        Node<K, V> node = index.get(key);
        if (node != null) {
            node.value = value;
            moveToFront(node);
            return;
        }
        node = new Node<>(key, value);
        index.put(key, node);
        addFirst(node);
        if (index.size() > capacity) {
            evict();
        }
    }

    public synchronized boolean remove(K key) {
        Node<K, V> node = index.remove(key);
        if (node == null) {
            return false;
        }
        unlink(node);
        return true;
    }

    public synchronized List<K> keys() {
        List<K> keys = new ArrayList<>(index.size());
        for (Node<K, V> node = head; node != null; node = node.next) {
            keys.add(node.key);
        }
        return keys;
    }

    public synchronized int size() {
        return index.size();
    }

    public Stats stats() {
        return stats;
    }

    private void moveToFront(Node<K, V> node) {
        if (node == head) {
            return;
        }
        unlink(node);
        addFirst(node);
    }

    private void addFirst(Node<K, V> node) {
        node.previous = null;
        node.next = head;
        if (head != null) {
            head.previous = node;
        }
        head = node;
        if (tail == null) {
            tail = node;
        }
    }

    private void unlink(Node<K, V> node) {
        if (node.previous != null) {
            node.previous.next = node.next;
        } else {
            head = node.next;
        }
        if (node.next != null) {
            node.next.previous = node.previous;
        } else {
            tail = node.previous;
        }
        node.previous = null;
        node.next = null;
    }

    private void evict() {
        Node<K, V> victim = tail;
        if (victim == null) {
            return;
        }
        unlink(victim);
        index.remove(victim.key);
        stats.evictions++;
    }

    public static void main(String[] args) {
        LruCache<String, Integer> cache = new LruCache<>(2, String::length);
        cache.get("alpha");
        cache.get("beta");
        cache.get("alpha");
        cache.get("gamma");
        System.out.println(cache.keys() + " " + cache.stats());
    }
}
