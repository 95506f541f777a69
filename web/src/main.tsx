import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import { CartProvider } from './lib/cart.tsx';
import { customer } from './lib/clients.ts';
import { OrderflowProvider } from './lib/orderflow-context.tsx';
import './styles.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <OrderflowProvider client={customer}>
      <CartProvider>
        <App />
      </CartProvider>
    </OrderflowProvider>
  </StrictMode>,
);
