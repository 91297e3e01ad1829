/**
 * The sample database the sqlite server creates on first start, so the example works out of the box.
 * The data is fixed (no randomness, no clock), so pipelines and tests can rely on exact values.
 */
import { mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

const SCHEMA = `
CREATE TABLE customers (
  id    INTEGER PRIMARY KEY,
  name  TEXT NOT NULL,
  email TEXT NOT NULL UNIQUE,
  city  TEXT NOT NULL,
  total REAL NOT NULL DEFAULT 0
);
CREATE TABLE products (
  id       INTEGER PRIMARY KEY,
  name     TEXT NOT NULL,
  category TEXT NOT NULL,
  price    REAL NOT NULL,
  stock    INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE orders (
  id          INTEGER PRIMARY KEY,
  customer_id INTEGER NOT NULL REFERENCES customers(id),
  product_id  INTEGER NOT NULL REFERENCES products(id),
  quantity    INTEGER NOT NULL CHECK (quantity > 0),
  ordered_at  TEXT NOT NULL,
  amount      REAL NOT NULL
);
CREATE INDEX orders_customer ON orders(customer_id);
`;

const CUSTOMERS: [name: string, email: string, city: string][] = [
  ['Ada Lovelace', 'ada@example.com', 'London'],
  ['Grace Hopper', 'grace@example.com', 'New York'],
  ['Alan Turing', 'alan@example.com', 'Manchester'],
  ['Katherine Johnson', 'katherine@example.com', 'Hampton'],
  ['Edsger Dijkstra', 'edsger@example.com', 'Amsterdam'],
  ['Barbara Liskov', 'barbara@example.com', 'Boston'],
  ['Donald Knuth', 'donald@example.com', 'Palo Alto'],
  ['Margaret Hamilton', 'margaret@example.com', 'Cambridge'],
  ['Linus Torvalds', 'linus@example.com', 'Portland'],
  ['Frances Allen', 'frances@example.com', 'Schenectady'],
];

const PRODUCTS: [name: string, category: string, price: number, stock: number][] = [
  ['Mechanical Keyboard', 'peripherals', 89.99, 42],
  ['Wireless Mouse', 'peripherals', 24.5, 120],
  ['27" Monitor', 'displays', 249, 15],
  ['USB-C Hub', 'accessories', 39.95, 60],
  ['Laptop Stand', 'accessories', 45, 33],
  ['Noise-Cancelling Headphones', 'audio', 199, 18],
  ['Webcam HD', 'peripherals', 59.9, 27],
  ['Desk Lamp', 'furniture', 32.75, 50],
];

const ORDER_COUNT = 30;

/** A fixed pseudo-random sequence (a linear congruential generator), so orders look uneven but never change. */
function* sequence(seed: number): Generator<number> {
  let x = seed;
  for (;;) {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    yield x >>> 16; // the low bits of an LCG cycle quickly; the high ones vary
  }
}

interface Order {
  customerId: number;
  productId: number;
  quantity: number;
  orderedAt: string;
  amount: number;
}

function sampleOrders(): Order[] {
  const next = sequence(42);
  const pick = (n: number) => (next.next().value as number) % n;
  const start = Date.UTC(2024, 0, 2);
  return Array.from({ length: ORDER_COUNT }, (_, i) => {
    const productId = pick(PRODUCTS.length) + 1;
    const quantity = pick(4) + 1;
    const price = PRODUCTS[productId - 1]![2];
    return {
      customerId: pick(CUSTOMERS.length) + 1,
      productId,
      quantity,
      orderedAt: new Date(start + i * 3 * 86_400_000 + pick(10) * 3_600_000).toISOString().slice(0, 19),
      amount: Math.round(price * quantity * 100) / 100,
    };
  });
}

function seed(db: Database.Database): void {
  db.exec(SCHEMA);
  const addCustomer = db.prepare('INSERT INTO customers (name, email, city) VALUES (?, ?, ?)');
  const addProduct = db.prepare('INSERT INTO products (name, category, price, stock) VALUES (?, ?, ?, ?)');
  const addOrder = db.prepare(
    'INSERT INTO orders (customer_id, product_id, quantity, ordered_at, amount) VALUES (?, ?, ?, ?, ?)',
  );
  for (const c of CUSTOMERS) addCustomer.run(...c);
  for (const p of PRODUCTS) addProduct.run(...p);
  for (const o of sampleOrders()) addOrder.run(o.customerId, o.productId, o.quantity, o.orderedAt, o.amount);
  // Derived from the orders, so a customer's total always equals the sum of their orders' amounts.
  db.exec(`UPDATE customers SET total =
    (SELECT ROUND(COALESCE(SUM(amount), 0), 2) FROM orders WHERE orders.customer_id = customers.id)`);
}

/**
 * Create the sample database at `file`, creating its folder. It is built under a temporary name and
 * renamed into place, so a crash midway or a second server starting at once never sees half a database.
 */
export function createSampleDatabase(file: string): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  const db = new Database(tmp);
  try {
    db.transaction(() => seed(db))();
  } finally {
    db.close();
  }
  renameSync(tmp, file);
}
