package io.weir.bench;

import picocli.CommandLine;

/** Parses {@code --client weir|kafka}. */
final class ClientKindConverter implements CommandLine.ITypeConverter<ClientKind> {
    @Override
    public ClientKind convert(String value) {
        try {
            return ClientKind.parse(value);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.TypeConversionException(e.getMessage());
        }
    }
}
