// Inventory service: a small in-memory store with reservations and events.

export type Sku = string;

export interface Item {
  sku: Sku;
  name: string;
  price: number;
  quantity: number;
  tags: string[];
}

export interface Reservation {
  id: number;
  sku: Sku;
  quantity: number;
  expiresAt: number;
}

type Listener = (event: InventoryEvent) => void;

export type InventoryEvent =
  | { kind: "added"; item: Item }
  | { kind: "reserved"; reservation: Reservation }
  | { kind: "released"; reservation: Reservation }
  | { kind: "low-stock"; sku: Sku; remaining: number };

export class InventoryError extends Error {
  constructor(
    message: string,
    public readonly sku?: Sku,
  ) {
    super(message);
    this.name = "InventoryError";
  }
}

export class Inventory {
  private readonly items = new Map<Sku, Item>();
  private readonly reservations = new Map<number, Reservation>();
  private readonly listeners: Listener[] = [];
  private nextId = 1;

  constructor(
    private readonly lowStockThreshold = 5,
    private readonly clock: () => number = Date.now,
  ) {}

  onEvent(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const index = this.listeners.indexOf(listener);
      if (index >= 0) {
        this.listeners.splice(index, 1);
      }
    };
  }

  add(item: Item): void {
    if (item.quantity < 0) {
      throw new InventoryError(`negative quantity for ${item.sku}`, item.sku);
    }
    const existing = this.items.get(item.sku);
    if (existing) {
      existing.quantity += item.quantity;
      existing.tags = Array.from(new Set([...existing.tags, ...item.tags]));
    } else {
      this.items.set(item.sku, { ...item, tags: [...item.tags] });
    }
    this.emit({ kind: "added", item });
  }

  available(sku: Sku): number {
    const item = this.items.get(sku);
    if (!item) {
      return 0;
    }
    let reserved = 0;
    for (const reservation of this.reservations.values()) {
      if (reservation.sku === sku && reservation.expiresAt > this.clock()) {
        reserved += reservation.quantity;
      }
    }
    return Math.max(0, item.quantity - reserved);
  }

  reserve(sku: Sku, quantity: number, ttlMs = 60_000): Reservation {
    if (quantity <= 0) {
      throw new InventoryError("quantity must be positive", sku);
    }
    const free = this.available(sku);
    if (free < quantity) {
      throw new InventoryError(`only ${free} of ${sku} available`, sku);
    }
    const reservation: Reservation = {
      id: this.nextId++,
      sku,
      quantity,
      expiresAt: this.clock() + ttlMs,
    };
    this.reservations.set(reservation.id, reservation);
    this.emit({ kind: "reserved", reservation });
    const remaining = free - quantity;
    if (remaining <= this.lowStockThreshold) {
      this.emit({ kind: "low-stock", sku, remaining });
    }
    return reservation;
  }

  release(id: number): boolean {
    const reservation = this.reservations.get(id);
    if (!reservation) {
      return false;
    }
    this.reservations.delete(id);
    this.emit({ kind: "released", reservation });
    return true;
  }

  expire(): Reservation[] {
    const now = this.clock();
    const expired: Reservation[] = [];
    for (const [id, reservation] of this.reservations) {
      if (reservation.expiresAt <= now) {
        this.reservations.delete(id);
        expired.push(reservation);
      }
    }
    return expired;
  }

  search(query: string, options: { tag?: string; maxPrice?: number } = {}): Item[] {
    const needle = query.trim().toLowerCase();
    return [...this.items.values()]
      .filter((item) => item.name.toLowerCase().includes(needle))
      .filter((item) => !options.tag || item.tags.includes(options.tag))
      .filter((item) => options.maxPrice === undefined || item.price <= options.maxPrice)
      .sort((a, b) => a.price - b.price || a.name.localeCompare(b.name));
  }

  totalValue(): number {
    let total = 0;
    for (const item of this.items.values()) {
      total += item.price * item.quantity;
    }
    return Math.round(total * 100) / 100;
  }

  private emit(event: InventoryEvent): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch (error) {
        console.error("inventory listener failed", error);
      }
    }
  }
}

export function parseCsv(text: string): Item[] {
  const rows = text.split(/\r?\n/).filter((line) => line.trim().length > 0);
  const [header, ...body] = rows;
  const columns = header.split(",").map((name) => name.trim());
  return body.map((row, index) => {
    const cells = row.split(",").map((cell) => cell.trim());
    const record: Record<string, string> = {};
    columns.forEach((name, column) => {
      record[name] = cells[column] ?? "";
    });
    const price = Number.parseFloat(record.price);
    if (Number.isNaN(price)) {
      throw new InventoryError(`row ${index + 2}: bad price "${record.price}"`);
    }
    return {
      sku: record.sku,
      name: record.name,
      price,
      quantity: Number.parseInt(record.quantity || "0", 10),
      tags: record.tags ? record.tags.split(";") : [],
    };
  });
}

export async function loadInventory(
  fetchText: (url: string) => Promise<string>,
  url: string,
): Promise<Inventory> {
  const inventory = new Inventory();
  const text = await fetchText(url);
  for (const item of parseCsv(text)) {
    inventory.add(item);
  }
  return inventory;
}
