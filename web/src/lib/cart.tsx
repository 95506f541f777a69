import { createContext, useContext, useEffect, useReducer, type ReactNode } from 'react';

export interface CartLine {
  productId: string;
  name: string;
  sku: string;
  /** Catalog price when added; the order is charged at the catalog price when placed. */
  unitPrice: string;
  currencyCode: string;
  quantity: number;
}

type Action =
  | { type: 'add'; line: Omit<CartLine, 'quantity'>; quantity: number }
  | { type: 'set'; productId: string; quantity: number }
  | { type: 'remove'; productId: string }
  | { type: 'clear' };

const STORAGE_KEY = 'orderflow.cart';
/** The contract's bounds: 1..1000 per line, 1..50 lines. */
export const MAX_QUANTITY = 1000;
export const MAX_LINES = 50;

const clamp = (n: number) => Math.max(1, Math.min(MAX_QUANTITY, Math.floor(n) || 1));

function reduce(lines: CartLine[], action: Action): CartLine[] {
  switch (action.type) {
    case 'add': {
      const existing = lines.find((l) => l.productId === action.line.productId);
      if (existing)
        return lines.map((l) => (l === existing ? { ...l, quantity: clamp(l.quantity + action.quantity) } : l));
      if (lines.length >= MAX_LINES) return lines;
      return [...lines, { ...action.line, quantity: clamp(action.quantity) }];
    }
    case 'set':
      return lines.map((l) => (l.productId === action.productId ? { ...l, quantity: clamp(action.quantity) } : l));
    case 'remove':
      return lines.filter((l) => l.productId !== action.productId);
    case 'clear':
      return [];
  }
}

function load(): CartLine[] {
  try {
    const parsed = JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]');
    return Array.isArray(parsed) ? (parsed as CartLine[]) : [];
  } catch {
    return [];
  }
}

interface CartApi {
  lines: CartLine[];
  count: number;
  add(line: Omit<CartLine, 'quantity'>, quantity?: number): void;
  setQuantity(productId: string, quantity: number): void;
  remove(productId: string): void;
  clear(): void;
}

const CartContext = createContext<CartApi | null>(null);

/** The cart lives in the browser (localStorage) until the order is placed. */
export function CartProvider({ children }: { children: ReactNode }) {
  const [lines, dispatch] = useReducer(reduce, undefined, load);
  useEffect(() => {
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(lines));
    } catch {
      // Storage unavailable: the cart lasts as long as the tab.
    }
  }, [lines]);
  const api: CartApi = {
    lines,
    count: lines.reduce((n, l) => n + l.quantity, 0),
    add: (line, quantity = 1) => dispatch({ type: 'add', line, quantity }),
    setQuantity: (productId, quantity) => dispatch({ type: 'set', productId, quantity }),
    remove: (productId) => dispatch({ type: 'remove', productId }),
    clear: () => dispatch({ type: 'clear' }),
  };
  return <CartContext.Provider value={api}>{children}</CartContext.Provider>;
}

export function useCart(): CartApi {
  const cart = useContext(CartContext);
  if (!cart) throw new Error('useCart outside a CartProvider');
  return cart;
}
