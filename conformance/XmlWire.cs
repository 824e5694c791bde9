// XmlSerializer as current ASP.NET Web API's XmlMediaTypeFormatter uses it: its writer
// settings and its reader (AspNetWebStack, src/System.Net.Http.Formatting/Formatting/
// XmlMediaTypeFormatter.cs). Shared by Tool.cs and Server.cs; needs no Json.NET.
using System;
using System.IO;
using System.Text;
using System.Xml;
using System.Xml.Serialization;

namespace ShopCtrl.Conformance
{
    public static class XmlWire
    {
        public static readonly Encoding Utf8 = new UTF8Encoding(false, true);

        // XmlMediaTypeFormatter's WriterSettings; NewLineChars is Environment.NewLine unless
        // the caller asks for a Windows ("\r\n") or Mono ("\n") server's.
        public static byte[] WriteXml(object value, string newline, bool indent = false)
        {
            XmlWriterSettings settings = new XmlWriterSettings
            {
                OmitXmlDeclaration = true,
                CloseOutput = false,
                CheckCharacters = false,
                Encoding = Utf8,
                Indent = indent,
            };
            if (newline != null) settings.NewLineChars = newline;
            MemoryStream ms = new MemoryStream();
            using (XmlWriter w = XmlWriter.Create(ms, settings))
            {
                new XmlSerializer(value.GetType()).Serialize(w, value);
            }
            return ms.ToArray();
        }

        // XmlMediaTypeFormatter.CreateXmlReader with FormattingUtilities' default quotas.
        public static object ReadXml(byte[] body, Type type)
        {
            XmlDictionaryReaderQuotas quotas = new XmlDictionaryReaderQuotas
            {
                MaxArrayLength = int.MaxValue,
                MaxBytesPerRead = int.MaxValue,
                MaxDepth = 256,
                MaxNameTableCharCount = int.MaxValue,
                MaxStringContentLength = int.MaxValue,
            };
            using (XmlReader r = XmlDictionaryReader.CreateTextReader(new MemoryStream(body), Utf8, quotas, null))
            {
                return new XmlSerializer(type).Deserialize(r);
            }
        }
    }
}
